using System.Net;
using System.Net.Sockets;

namespace Streaming.Tests.Infrastructure;

public static class FreePort
{
    /// <summary>A TCP port of 127.0.0.1 free at the time of asking (the kernel's choice, so parallel tests do not collide).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
