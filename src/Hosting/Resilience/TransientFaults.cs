using System.Net.Sockets;
using Confluent.Kafka;
using Npgsql;

namespace Streaming.Hosting.Resilience;

/// <summary>
/// Says whether a failure is one to wait out (the database or broker is restarting, unreachable, or refused the
/// transaction for a reason that goes away on retry) rather than a bug or a permanent refusal.
/// </summary>
public static class TransientFaults
{
    // Not among Npgsql's PostgresErrorCodes.
    const string IdleInTransactionSessionTimeout = "25P03";

    public static bool IsTransient(Exception exception) => exception switch
    {
        PostgresException postgres => IsTransientState(postgres.SqlState) || postgres.IsTransient,
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is { } inner && IsTransient(inner),
        SocketException or IOException or TimeoutException => true,
        KafkaException kafka => !kafka.Error.IsFatal && IsTransientKafka(kafka.Error.Code),
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsTransient),
        InvalidOperationException { InnerException: { } inner } => IsTransient(inner),
        _ => false,
    };

    /// <summary>
    /// SQLSTATEs that end when the server is back or the transaction is rerun: the 08 class (connection exceptions),
    /// 57P01–57P03 (shut down by an administrator, crash, cannot connect now), serialization failures and deadlocks,
    /// resource exhaustion (53xxx), a transaction the server ended for idling past its limit (25P03: the writer was
    /// stopped mid-transaction; its rerun finds whether it still owns what it writes), and a statement the server cancelled
    /// (57014: an administrator's cancel, or a statement limit). A cancellation the client asked for surfaces as
    /// <see cref="OperationCanceledException"/> instead, and is not retried.
    /// </summary>
    public static bool IsTransientState(string sqlState) =>
        sqlState.StartsWith("08", StringComparison.Ordinal)
        || sqlState.StartsWith("53", StringComparison.Ordinal)
        || sqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
            or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.LockNotAvailable
            or IdleInTransactionSessionTimeout or PostgresErrorCodes.QueryCanceled;

    static bool IsTransientKafka(ErrorCode code) => code switch
    {
        ErrorCode.TopicAuthorizationFailed or ErrorCode.GroupAuthorizationFailed or ErrorCode.ClusterAuthorizationFailed
            or ErrorCode.SaslAuthenticationFailed or ErrorCode.Local_Fatal or ErrorCode.Local_InvalidArg
            or ErrorCode.MsgSizeTooLarge or ErrorCode.InvalidMsg
            or ErrorCode.Local_Fenced or ErrorCode.ProducerFenced => false,
        _ => true,
    };
}
