using System.Net;
using System.Net.Sockets;

namespace Streaming.Chaos.Environment;

/// <summary>
/// A TCP port nothing listens on right now, for a server started a moment later. It is drawn from below the kernel's
/// ephemeral range (32768 and up): a port from that range (what binding port 0 gives) may be taken by any outgoing
/// connection in the meantime, which made PostgreSQL fail to listen when many tests ran at once.
/// </summary>
public static class FreePort
{
    const int First = 20_000;
    const int Last = 32_767;

    public static int Next()
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = Random.Shared.Next(First, Last + 1);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException) when (attempt < 100)
            {
                // In use: draw another.
            }
        }
    }
}
