using System.Net;
using System.Net.Sockets;

namespace Streaming.Embedded.Broker;

/// <summary>
/// A fixed bootstrap address in front of the mock cluster, whose brokers listen on ports chosen at random: clients
/// configured once (a container's environment) bootstrap here and then follow the metadata to the brokers themselves.
/// Only the bootstrap connection passes through; it carries a few metadata requests.
/// </summary>
sealed class BootstrapForwarder : IAsyncDisposable
{
    readonly TcpListener _listener;
    readonly string _targetHost;
    readonly int _targetPort;
    readonly CancellationTokenSource _stopping = new();
    readonly Task _accepting;

    public BootstrapForwarder(int port, string firstBroker)
    {
        var separator = firstBroker.LastIndexOf(':');
        _targetHost = firstBroker[..separator];
        _targetPort = int.Parse(firstBroker[(separator + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        _listener = new TcpListener(IPAddress.Loopback, port);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public string Address => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = ForwardAsync(client);
        }
    }

    async Task ForwardAsync(TcpClient client)
    {
        using (client)
        using (var broker = new TcpClient())
        {
            try
            {
                await broker.ConnectAsync(_targetHost, _targetPort, _stopping.Token);
                client.NoDelay = true;
                broker.NoDelay = true;
                var inbound = client.GetStream().CopyToAsync(broker.GetStream(), _stopping.Token);
                var outbound = broker.GetStream().CopyToAsync(client.GetStream(), _stopping.Token);
                // Either side closing ends the connection; the client reconnects if it still needs the bootstrap.
                await Task.WhenAny(inbound, outbound);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stopping.Dispose();
    }
}
