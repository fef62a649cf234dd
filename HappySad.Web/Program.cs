using HappySad.Web.Cli;
using HappySad.Web.Extensions;

if (CliApp.IsCommand(args))
    return await CliApp.RunAsync(args);

var builder = WebApplication.CreateBuilder(args);
builder.AddHappySadWeb(args);

var app = builder.Build();
app.UseHappySadWeb();
try
{
    await app.RunAsync();
}
catch (HappySad.Web.Storage.DataDirectoryInUseException refused)
{
    // Not a crash: another app owns the data directory, which the message says in one line.
    await Console.Error.WriteLineAsync(refused.Message);
    return 1;
}
return 0;

/// <summary>Public so that <c>WebApplicationFactory&lt;Program&gt;</c> tests can host the app.</summary>
public partial class Program;
