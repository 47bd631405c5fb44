using Portal;
using Portal.Api;
using Portal.Configuration;
using Portal.Hubs;
using Portal.Infrastructure;
using Portal.Operations;
using Portal.Security;

var builder = WebApplication.CreateBuilder(args);
builder.AddPortalConfiguration();

builder.Services.AddInfrastructure(builder.Configuration, builder.Environment);
builder.Services.AddPortalSecurity(builder.Configuration);
builder.Services.AddPortalApi();
builder.Services.AddPortalLive();
builder.Services.AddPortalUi(builder.WebHost);

var app = builder.Build();
await app.Services.InitializePortalAsync(app.Lifetime.ApplicationStopping);

app.UsePortalPipeline();
app.MapPortalHealth();
app.MapPortalApi();
app.MapPortalLive();
app.MapPortalUi();

await app.RunAsync();

/// <summary>The portal's entry point; public so tests can host it.</summary>
public partial class Program;
