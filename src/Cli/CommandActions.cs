using System.CommandLine;
using Npgsql;
using Streaming.EventStore;

namespace Streaming.Cli;

/// <summary>
/// Runs a command's action with its <see cref="CommandContext"/>, and turns failures into a message on standard error
/// (and a JSON error object with <c>--json</c>) with a non-zero exit: 1 when the command failed, 2 when it was misused.
/// </summary>
public static class CommandActions
{
    public static Command WithAction(this Command command, Func<CommandContext, ParseResult, CancellationToken, Task<int>> action)
    {
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var context = new CommandContext(parse);
            try
            {
                return await action(context, parse, cancellationToken);
            }
            catch (CommandFailedException e)
            {
                return Fail(context, e.Message, e.ExitCode);
            }
            catch (ArgumentException e)
            {
                return Fail(context, e.Message, 2);
            }
            catch (WrongExpectedVersionException e)
            {
                return Fail(context, e.Message, 1);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                return Fail(context, $"the event store is not reachable or refused the command: {e.Message}", 1);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return Fail(context, "interrupted", 130);
            }
        });
        return command;
    }

    static int Fail(CommandContext context, string message, int exitCode)
    {
        if (context.JsonOutput)
        {
            Console.Out.WriteLine(CommandContext.ToJson(new { error = message, exitCode }));
        }
        Console.Error.WriteLine("error: " + message);
        return exitCode;
    }
}
