using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry.Metrics;
using Streaming.Api.Approvals;
using Streaming.Api.Auth;
using Streaming.Api.Dashboards;
using Streaming.Api.Fleet;
using Streaming.Api.Health;
using Streaming.Api.Jobs;
using Streaming.Api.Live;
using Streaming.Api.Notifications;
using Streaming.Api.Policies;
using Streaming.Api.Problems;
using Streaming.Api.Shards;
using Streaming.Api.Telemetry;
using Streaming.Api.Writes;
using Streaming.EventStore;
using Streaming.Ingest;
using Streaming.LifecycleEvents;
using Streaming.Projections;
using Streaming.Projections.Tail;
using Streaming.Projector;
using Streaming.Promoter;
using Streaming.Promoter.Approvals;
using Streaming.Promoter.Fleet;
using Streaming.Promoter.Overrides;
using Streaming.Promoter.Policies;

namespace Streaming.Api;

public static class ApiExtensions
{
    /// <summary>The HTTP API, its authentication, the dashboards, health, metrics and the fleet history fold.</summary>
    public static IHostApplicationBuilder AddApi(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        // Its own tables, and those of the parts whose tables it reads (Kafka offsets, job states, the Promoter's state),
        // so it serves a store those parts have not migrated yet.
        services.AddSchemaMigrations(ApiSchema.Migrations);
        services.AddSchemaMigrations(IngestSchema.Migrations);
        services.AddSchemaMigrations(ProjectorSchema.Migrations);
        services.AddSchemaMigrations(PromoterSchema.Migrations);
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.Section)
            .Validate(o => o.SessionLifetime > TimeSpan.Zero, "Api:SessionLifetime must be positive")
            .Validate(o => o.SessionAbsoluteLifetime >= o.SessionLifetime, "Api:SessionAbsoluteLifetime must be at least Api:SessionLifetime")
            .Validate(o => o.MaxRequestBodyBytes > 0, "Api:MaxRequestBodyBytes must be positive")
            .Validate(o => o.MostFailedAuthentications > 0 && o.FailedAuthenticationWindow > TimeSpan.Zero, "Api:MostFailedAuthentications and Api:FailedAuthenticationWindow must be positive")
            .Validate(o => o.MostLiveStreamsPerSession > 0, "Api:MostLiveStreamsPerSession must be positive")
            .Validate(o => o.KnownNetworks.All(n => System.Net.IPNetwork.TryParse(n, out _)), "Api:KnownNetworks must be CIDR networks (10.0.0.0/8)")
            .Validate(o => o.KnownProxies.All(p => IPAddress.TryParse(p, out _)), "Api:KnownProxies must be IP addresses")
            .ValidateOnStart();
        var configured = builder.Configuration.GetSection(ApiOptions.Section).Get<ApiOptions>() ?? new ApiOptions();
        services.Configure<KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = configured.MaxRequestBodyBytes);
        services.TryAddSingleton(TimeProvider.System);
        services.AddProblemDetails();
        // A body over Kestrel's limit surfaces as an exception while it is read: answered with its own status (413).
        services.Configure<ExceptionHandlerOptions>(o => o.StatusCodeSelector = e => e is Microsoft.AspNetCore.Http.BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError);
        services.AddOpenApi();
        services.AddSingleton<ApiTokens>();
        services.AddSingleton<SessionStore>();
        services.AddSingleton<FailedAuthentications>();
        services.AddSingleton<LiveStreamSlots>();
        services.AddHostedService<DefaultTokens>();
        services.AddDataProtection().SetApplicationName("streaming-api");
        services.AddOptions<KeyManagementOptions>().Configure<IOptions<ApiOptions>>((o, api) => o.XmlRepository = new OwnerOnlyKeyRing(KeyRingFolder(api.Value)));
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            if (configured.KnownProxies.Length > 0 || configured.KnownNetworks.Length > 0)
            {
                o.KnownProxies.Clear();
                o.KnownIPNetworks.Clear();
                foreach (var proxy in configured.KnownProxies)
                {
                    o.KnownProxies.Add(IPAddress.Parse(proxy));
                }
                foreach (var network in configured.KnownNetworks)
                {
                    o.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
                }
            }
        });
        services.AddHsts(o =>
        {
            o.MaxAge = TimeSpan.FromDays(365);
            o.IncludeSubDomains = true;
            // Which hosts a proxy serves is the deployment's business; HSTS goes with every request that came over TLS.
            o.ExcludedHosts.Clear();
        });
        services.AddAuthentication(AuthSchemes.Either)
            .AddPolicyScheme(AuthSchemes.Either, "Bearer token or browser session", o =>
                o.ForwardDefaultSelector = context => context.Request.Headers.Authorization.Count > 0 ? AuthSchemes.Bearer : AuthSchemes.Session)
            .AddScheme<AuthenticationSchemeOptions, BearerTokenHandler>(AuthSchemes.Bearer, null)
            .AddCookie(AuthSchemes.Session, o =>
            {
                o.Cookie.Name = AuthSchemes.SessionCookie;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.SlidingExpiration = true;
                o.ExpireTimeSpan = builder.Configuration.GetValue("Api:SessionLifetime", TimeSpan.FromHours(8));
                o.Events.OnRedirectToLogin = context =>
                    ApiProblems.WriteAsync(context.HttpContext, StatusCodes.Status401Unauthorized, "sign in: send 'Authorization: Bearer TOKEN' or sign in on the dashboard");
                o.Events.OnRedirectToAccessDenied = context =>
                    ApiProblems.WriteAsync(context.HttpContext, StatusCodes.Status403Forbidden, BearerTokenHandler.ForbiddenDetail(context.HttpContext));
            });
        services.AddOptions<CookieAuthenticationOptions>(AuthSchemes.Session).Configure<SessionStore>((o, store) => o.SessionStore = store);
        services.AddSingleton<IAuthorizationHandler>(_ => new RoleRequirement(ApiRoles.Viewer));
        services.AddAuthorization(o =>
        {
            foreach (var role in new[] { ApiRoles.Viewer, ApiRoles.Operator, ApiRoles.Admin })
            {
                o.AddPolicy(role, p => p.AddAuthenticationSchemes(AuthSchemes.Either).RequireAuthenticatedUser().AddRequirements(new RoleRequirement(role)));
            }
        });
        services.AddSingleton<JobWriters>();
        services.AddSingleton<PolicyCatalog>();
        services.AddSingleton<FleetQueries>();
        services.AddSingleton<FleetHistoryQueries>();
        services.AddSingleton<JobQueries>();
        services.TryAddSingleton<FleetWriter>();
        services.AddSingleton<ApprovalQueries>();
        services.TryAddSingleton<PauseWriter>();
        services.TryAddSingleton<GateQueries>();
        services.TryAddSingleton<PolicyPublisher>();
        services.AddSingleton<PipelineSampler>();
        services.AddHostedService(sp => sp.GetRequiredService<PipelineSampler>());
        services.AddSingleton<LiveUpdates>();
        services.AddHostedService(sp => sp.GetRequiredService<LiveUpdates>());
        if (builder.Configuration.GetValue("Api:FoldFleetHistory", true))
        {
            services.AddSingleton(sp => new FleetHistoryFold(sp.GetRequiredService<NpgsqlDataSource>(),
                new ActivePolicies(sp.GetRequiredService<ILoggerFactory>().CreateLogger<FleetHistoryFold>())));
            services.AddLogFold(sp => new TransactionalFold(
                sp.GetRequiredService<NpgsqlDataSource>(), FleetHistoryFold.CheckpointName, sp.GetRequiredService<FleetHistoryFold>().HandleAsync));
            services.AddHostedService<ShardHistoryTails>();
        }
        builder.AddNotifications();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddAspNetCoreInstrumentation().AddPrometheusExporter());
        return builder;
    }

    public static WebApplication MapApi(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<ApiOptions>>().Value;
        if (options.ForwardedHeaders)
        {
            app.UseForwardedHeaders();
        }
        app.UseHsts();
        app.UseSecurityHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<AuthenticationGuard>();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOpenApi().AllowAnonymous();
        var metrics = app.MapPrometheusScrapingEndpoint("/metrics");
        if (options.AnonymousMetrics)
        {
            metrics.AllowAnonymous();
        }
        else
        {
            metrics.RequireAuthorization(ApiRoles.Viewer);
        }
        app.MapHealthEndpoints();
        app.MapSessionEndpoints();
        app.MapFleetEndpoints();
        app.MapJobEndpoints();
        app.MapWriteEndpoints();
        app.MapApprovalEndpoints();
        app.MapGateWriteEndpoints();
        app.MapPolicyEndpoints();
        app.MapLiveEndpoints();
        app.MapNotificationEndpoints();
        app.MapDashboards();
        return app;
    }

    static string KeyRingFolder(ApiOptions options) =>
        options.KeyRingFolder is { Length: > 0 } folder ? folder
        : Path.Combine(Environment.GetEnvironmentVariable("STREAMING_DATA") is { Length: > 0 } data ? data : ".data", "api-keys");
}
