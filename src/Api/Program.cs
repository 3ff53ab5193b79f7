using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Streaming.Api;
using Streaming.Hosting;
using Streaming.Hosting.Supervision;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApi();
// Under ./run.sh's supervisor: where the API and dashboards are, and the tokens to sign in with, into endpoints.json.
builder.AnnounceWhenStarted(configuration => new JsonObject
{
    ["httpUrl"] = configuration["urls"],
    ["tokensFile"] = configuration["Api:TokensFile"] is { Length: > 0 } tokens ? Path.GetFullPath(tokens) : null,
});
var app = builder.Build();
app.MapApi();
return await app.RunToExitCodeAsync();
