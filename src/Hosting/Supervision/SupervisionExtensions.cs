using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Streaming.Hosting.Supervision;

public static class SupervisionExtensions
{
    /// <summary>
    /// Once started, tells the supervisor that started this process (if one did) the endpoints it serves, for
    /// <c>endpoints.json</c>, and the environment the processes after it need; a <c>ready</c> line of the procfile waits for it.
    /// </summary>
    public static IHostApplicationBuilder AnnounceWhenStarted(
        this IHostApplicationBuilder builder, Func<IConfiguration, JsonObject> endpoints, IReadOnlyDictionary<string, string>? environment = null)
    {
        builder.Services.AddHostedService(sp => new AnnouncementPublication(
            sp.GetRequiredService<IHostApplicationLifetime>(),
            () => new Announcement(endpoints(builder.Configuration), environment ?? new Dictionary<string, string>())));
        return builder;
    }
}
