using Microsoft.AspNetCore.Builder;
using Streaming.Api;
using Streaming.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddStandaloneApi();
var app = builder.Build();
app.MapApi();
app.LogDashboardsWhenStarted();
return await app.RunToExitCodeAsync();
