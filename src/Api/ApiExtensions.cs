using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry.Metrics;
using Streaming.Api.Auth;
using Streaming.Api.Dashboards;
using Streaming.Api.Fleet;
using Streaming.Api.Health;
using Streaming.Api.Jobs;
using Streaming.Api.Live;
using Streaming.Api.Policies;
using Streaming.Api.Problems;
using Streaming.Api.Telemetry;
using Streaming.Api.Writes;
using Streaming.EventStore;
using Streaming.Ingest;
using Streaming.Projections;
using Streaming.Projections.Tail;
using Streaming.Projector;
using Streaming.Promoter;
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
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddProblemDetails();
        services.AddOpenApi();
        services.AddSingleton<ApiTokens>();
        services.AddHostedService<DefaultTokens>();
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
        services.AddSingleton<IAuthorizationHandler>(_ => new RoleRequirement(ApiRoles.Viewer));
        services.AddAuthorization(o =>
        {
            foreach (var role in new[] { ApiRoles.Viewer, ApiRoles.Operator, ApiRoles.Admin })
            {
                o.AddPolicy(role, p => p.AddAuthenticationSchemes(AuthSchemes.Either).RequireAuthenticatedUser().AddRequirements(new RoleRequirement(role)));
            }
        });
        services.AddSingleton<PolicyCatalog>();
        services.AddSingleton<FleetQueries>();
        services.AddSingleton<FleetHistoryQueries>();
        services.AddSingleton<JobQueries>();
        services.TryAddSingleton<OverrideWriter>();
        services.TryAddSingleton<FleetWriter>();
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
        }
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddAspNetCoreInstrumentation().AddPrometheusExporter());
        return builder;
    }

    public static WebApplication MapApi(this WebApplication app)
    {
        app.UseSecurityHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapOpenApi().AllowAnonymous();
        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
        app.MapHealthEndpoints();
        app.MapSessionEndpoints();
        app.MapFleetEndpoints();
        app.MapJobEndpoints();
        app.MapWriteEndpoints();
        app.MapPolicyEndpoints();
        app.MapLiveEndpoints();
        app.MapDashboards();
        return app;
    }
}
