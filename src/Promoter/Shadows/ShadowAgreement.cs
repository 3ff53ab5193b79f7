namespace Streaming.Promoter.Shadows;

/// <summary>
/// How a shadow policy compares with the policies in force, counted as the real moves happen: moves it would have made
/// too (with how much sooner it would have made them), real moves it would not have made, moves it wanted that did not
/// happen, and moves it wants now that are still open.
/// </summary>
public sealed class ShadowAgreement(string policy)
{
    public string Policy => policy;

    public long Agreed { get; set; }

    public long LiveOnly { get; set; }

    public long ShadowOnly { get; set; }

    public long Open { get; set; }

    /// <summary>Summed over agreed moves: how much earlier (positive) or later the shadow wanted them.</summary>
    public double LeadSeconds { get; set; }

    public double AgreementRate
    {
        get
        {
            var judged = Agreed + LiveOnly + ShadowOnly + Open;
            return judged == 0 ? 1 : (double)Agreed / judged;
        }
    }
}
