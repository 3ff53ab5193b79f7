using Microsoft.Extensions.Hosting;

namespace Streaming.Hosting.Supervision;

/// <summary>Publishes a process's <see cref="Announcement"/> once the host has started (every hosted service, a web server's listener included).</summary>
sealed class AnnouncementPublication(IHostApplicationLifetime lifetime, Func<Announcement> announcement) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => announcement().Publish());
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
