using System.CommandLine;
using Streaming.Cli.Commands;

namespace Streaming.Cli;

/// <summary>The <c>streaming</c> tool: every operator and analyst command in one place.</summary>
public static class StreamingCommand
{
    public static RootCommand Create()
    {
        var root = new RootCommand("Streaming: operate and analyse the job lifecycle promotion system. Writes (overrides, known issues, approvals, pauses, breakers, policies) " +
            "go through the API with a token (--api, --token-file), so roles apply and the actor is the token's holder. Reads and " +
            "maintenance (migrate, backtest, rebuild, archive, reshard, token) use direct database access, found through --connection, " +
            "ConnectionStrings__EventStore or the embedded default's endpoints.json.")
        {
            MaintenanceCommands.Migrate(),
            PolicyCommands.Create(),
            WriteCommands.Override(),
            WriteCommands.KnownIssue(),
            WriteCommands.Breaker(),
            PauseCommands.Pause(),
            PauseCommands.Resume(),
            ApprovalCommands.Create(),
            MaintenanceCommands.Backtest(),
            MaintenanceCommands.Rebuild(),
            MaintenanceCommands.Archive(),
            ReshardCommand.Create(),
            JobCommands.History(),
            JobCommands.State(),
            ExportCommand.Create(),
            TokenCommands.Create(),
        };
        root.Options.Add(GlobalOptions.Connection);
        root.Options.Add(GlobalOptions.Endpoints);
        root.Options.Add(GlobalOptions.Api);
        root.Options.Add(GlobalOptions.TokenFile);
        root.Options.Add(GlobalOptions.Json);
        return root;
    }
}
