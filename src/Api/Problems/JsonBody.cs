using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Streaming.Api.Problems;

/// <summary>
/// Reads a JSON request body; anything wrong with it becomes a 400 problem naming the field (by its JSON path). Its size
/// is bounded by Kestrel (<see cref="ApiOptions.MaxRequestBodyBytes"/>, or the endpoint's <see cref="BodyLimit"/>),
/// which answers 413 for a body too large, whether it is sent with a length or chunked.
/// </summary>
public static class JsonBody
{

    static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { AllowTrailingCommas = false };

    public sealed record Read<T>(T? Value, ValidationProblem? Problem);

    public static async Task<Read<T>> ReadAsync<T>(HttpRequest request) where T : class
    {
        if (!request.HasJsonContentType())
        {
            return new Read<T>(null, ApiProblems.Field("body", "send a JSON object with Content-Type: application/json"));
        }
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(request.Body, Options, request.HttpContext.RequestAborted);
            return value is null ? new Read<T>(null, ApiProblems.Field("body", "a JSON object is required")) : new Read<T>(value, null);
        }
        catch (JsonException e)
        {
            var field = e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "body";
            return new Read<T>(null, ApiProblems.Field(field, "not valid JSON of the expected type" + (e.LineNumber is { } line ? $" (line {line + 1})" : "")));
        }
    }
}
