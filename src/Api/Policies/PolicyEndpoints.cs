using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Streaming.Api.Auth;
using Streaming.Api.Problems;
using Streaming.Lifecycle;
using Streaming.Promoter.Policies;

namespace Streaming.Api.Policies;

/// <summary>Policies: their versions and the diff between two (viewer); publishing a new version (admin).</summary>
public static class PolicyEndpoints
{
    public sealed record PolicyVersion(string Name, int Version, string Sha256, string PublishedBy, DateTimeOffset PublishedAt);

    public sealed record PolicyText(string Name, int Version, string Sha256, string PublishedBy, DateTimeOffset PublishedAt, string Text);

    public sealed record Diff(string Name, int From, int To, IReadOnlyList<PolicyDiff.Line> Lines);

    public sealed record PublishRequest(string? Text, bool? Shadow);

    public sealed record Published(string Outcome, string Name, int Version);

    public static void MapPolicyEndpoints(this IEndpointRouteBuilder routes)
    {
        var read = routes.MapGroup("/api/v1/policies").WithTags("Policies").RequireAuthorization(ApiRoles.Viewer);
        read.MapGet("", async (PolicyCatalog catalog, CancellationToken ct) =>
            TypedResults.Ok((await catalog.AllAsync(ct)).Select(p => new PolicyVersion(p.Name, p.Version, p.Sha256, p.PublishedBy, p.PublishedAt))))
            .WithSummary("Every version of every policy in force");
        read.MapGet("/{name}/versions/{version:int}", TextAsync).WithSummary("One version's document");
        read.MapGet("/{name}/diff", DiffAsync).WithSummary("The line diff between two versions");
        // A policy document may be up to PolicyTextBudget.MostCharacters long, and JSON may escape each of them in six bytes.
        BodyLimit.Limit(routes.MapPost("/api/v1/policies", PublishAsync), PolicyTextBudget.MostCharacters * 6L + 4096)
            .WithTags("Policies").RequireAuthorization(ApiRoles.Admin).AddEndpointFilter<CsrfCheck>()
            .WithSummary("Publishes a policy document as its next version; a document that fails validation is refused with each error's line, column and field");
    }

    static async Task<Results<Ok<PolicyText>, ProblemHttpResult>> TextAsync(PolicyCatalog catalog, string name, int version, CancellationToken ct) =>
        (await catalog.AllAsync(ct)).FirstOrDefault(p => p.Name == name && p.Version == version) is { } p
            ? TypedResults.Ok(new PolicyText(p.Name, p.Version, p.Sha256, p.PublishedBy, p.PublishedAt, p.Text))
            : ApiProblems.NotFound($"no version {version} of policy '{name}'");

    static async Task<Results<Ok<Diff>, ValidationProblem, ProblemHttpResult>> DiffAsync(PolicyCatalog catalog, string name, int? from, int? to, CancellationToken ct)
    {
        var versions = (await catalog.AllAsync(ct)).Where(p => p.Name == name).ToList();
        if (versions.Count == 0)
        {
            return ApiProblems.NotFound($"no policy '{name}'");
        }
        var toVersion = to ?? versions[^1].Version;
        var fromVersion = from ?? toVersion - 1;
        if (versions.FirstOrDefault(v => v.Version == fromVersion) is not { } before)
        {
            return ApiProblems.Field("from", $"policy '{name}' has versions 1 to {versions[^1].Version}");
        }
        if (versions.FirstOrDefault(v => v.Version == toVersion) is not { } after)
        {
            return ApiProblems.Field("to", $"policy '{name}' has versions 1 to {versions[^1].Version}");
        }
        return TypedResults.Ok(new Diff(name, fromVersion, toVersion, PolicyDiff.Between(before.Text, after.Text)));
    }

    static async Task<Results<Ok<Published>, Created<Published>, ValidationProblem>> PublishAsync(HttpContext http, PolicyPublisher publisher)
    {
        var body = await JsonBody.ReadAsync<PublishRequest>(http.Request);
        if (body.Problem is { } problem)
        {
            return problem;
        }
        if (string.IsNullOrWhiteSpace(body.Value!.Text))
        {
            return ApiProblems.Field("text", "required: the policy document (YAML)");
        }
        var publication = await publisher.PublishAsync(body.Value.Text, http.User.Actor(), http.RequestAborted, body.Value.Shadow ?? false);
        return publication.Outcome switch
        {
            PolicyPublicationOutcome.Published => TypedResults.Created($"/api/v1/policies/{publication.Name}/versions/{publication.Version}",
                new Published("published", publication.Name!, publication.Version)),
            PolicyPublicationOutcome.Unchanged => TypedResults.Ok(new Published("unchanged", publication.Name!, publication.Version)),
            _ => Rejected(publication.Errors),
        };
    }

    static ValidationProblem Rejected(IReadOnlyList<PolicyError> errors) =>
        TypedResults.ValidationProblem(
            errors.GroupBy(e => "text." + e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.ToString()).ToArray()),
            detail: string.Join("; ", errors.Select(e => e.ToString())),
            title: "The policy document is not valid; nothing was published");
}
