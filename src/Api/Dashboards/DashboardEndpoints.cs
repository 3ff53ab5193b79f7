using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.FileProviders;

namespace Streaming.Api.Dashboards;

/// <summary>
/// The fleet and job dashboards: static pages and scripts from the <c>dashboard</c> folder beside the program (the
/// charting library is put there by the set-up, from the npm registry), every response under a Content-Security-Policy
/// that allows no inline script and nothing from another origin.
/// </summary>
public static class DashboardEndpoints
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static string Folder => Path.Combine(AppContext.BaseDirectory, "dashboard");

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            await next();
        });

    public static void MapDashboards(this WebApplication app)
    {
        var files = new PhysicalFileProvider(Folder);
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files, RequestPath = "/static" });
        app.MapGet("/", () => Results.Redirect("/fleet")).ExcludeFromDescription();
        app.MapGet("/fleet", () => Page("fleet.html")).ExcludeFromDescription();
        app.MapGet("/job", () => Page("job.html")).ExcludeFromDescription();
        app.MapGet("/notifications", () => Page("notifications.html")).ExcludeFromDescription();
    }

    static IResult Page(string name) => Results.File(Path.Combine(Folder, name), "text/html; charset=utf-8");
}
