using HappySad.Web.Cli;
using HappySad.Web.Extensions;

if (CliApp.IsCommand(args))
    return await CliApp.RunAsync(args);

var builder = WebApplication.CreateBuilder(args);
builder.AddHappySadWeb(args);

var app = builder.Build();
app.UseHappySadWeb();
await app.RunAsync();
return 0;

/// <summary>Public so that <c>WebApplicationFactory&lt;Program&gt;</c> tests can host the app.</summary>
public partial class Program;
