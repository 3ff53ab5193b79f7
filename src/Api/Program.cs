using Microsoft.AspNetCore.Builder;
using Streaming.Api;
using Streaming.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApi();
var app = builder.Build();
app.MapApi();
await app.RunAsync();
