using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Metadata;

namespace Streaming.Api.Problems;

/// <summary>An endpoint's own request body limit, enforced by Kestrel (413 beyond), chunked bodies included.</summary>
public sealed record BodyLimit(long? MaxRequestBodySize) : IRequestSizeLimitMetadata
{
    public static TBuilder Limit<TBuilder>(TBuilder builder, long bytes) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new BodyLimit(bytes));
}
