using System.Globalization;

namespace Streaming.Projector.JobStates;

/// <summary>One generation of the job-state projection: its table and its checkpoint.</summary>
public sealed record JobStateGeneration(int Number)
{
    public string TableName => "job_states_g" + Number.ToString(CultureInfo.InvariantCulture);

    public string Table => "projections." + TableName;

    public string CheckpointName => "projector:job-states:g" + Number.ToString(CultureInfo.InvariantCulture);
}
