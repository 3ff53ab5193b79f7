using System.Globalization;

namespace Streaming.Projector.JobStates;

/// <summary>One generation of the job-state projection: its table and its checkpoint.</summary>
public sealed record JobStateGeneration(int Number)
{
    public string TableName => "job_states_g" + Number.ToString(CultureInfo.InvariantCulture);

    public string Table => "projections." + TableName;

    /// <summary>The narrow table that orders the generation's jobs by their last signal.</summary>
    public string SignalTable => "projections.job_signals_g" + Number.ToString(CultureInfo.InvariantCulture);

    public string CheckpointName => "projector:job-states:g" + Number.ToString(CultureInfo.InvariantCulture);
}
