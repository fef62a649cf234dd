using System.CommandLine;
using HappySad.Web.Accounts;

namespace HappySad.Web.Cli.Commands;

/// <summary>
/// <c>users add --name N --role R --password-stdin</c> and <c>users list [--json]</c>: accounts without a
/// browser, for scripts, tests and a lost admin password. The password is read from standard input,
/// never from the command line, where other users of the machine could see it.
/// </summary>
internal static class UsersCommand
{
    public static Command Create(CliContext cli)
    {
        var dataDirectory = CliOptions.DataDirectory("The dashboard's data directory (default: the app's, ./data).");
        var name = new Option<string>("--name") { Description = "The user's sign-in name.", HelpName = "NAME", Required = true };
        var role = new Option<string>("--role") { Description = $"One of {string.Join(", ", AppRoles.All)}.", HelpName = "ROLE", Required = true };
        role.AcceptOnlyFromAmong([.. AppRoles.All]);
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from the first line of standard input (required).", Required = true };
        var add = new Command("add", "Create a user with a role.") { name, role, passwordStdin, dataDirectory };
        add.SetAction((parse, _) => AddAsync(cli, parse.GetRequiredValue(name), parse.GetRequiredValue(role), parse.GetValue(dataDirectory)));

        var json = CliOptions.Json();
        var list = new Command("list", "The users, their roles and whether they are locked.") { dataDirectory, json };
        list.SetAction((parse, _) => ListAsync(cli.ForJson(parse.GetValue(json)), parse.GetValue(dataDirectory), parse.GetValue(json)));
        return new Command("users", "Dashboard accounts: add a user or list them.") { add, list };
    }

    static async Task<int> AddAsync(CliContext cli, string name, string role, string? dataDirectory)
    {
        var password = await Console.In.ReadLineAsync(cli.CancellationToken)
            ?? throw new UsageException("--password-stdin: standard input was empty");
        var storage = await cli.OpenStorageAsync(dataDirectory);
        await using (storage)
        {
            try
            {
                var user = await storage.Get<UserAdministration>().CreateAsync(name, role, password);
                await cli.Output.WriteLineAsync($"Created {user.Role} '{user.Name}'");
                return 0;
            }
            catch (AccountException e)
            {
                await cli.Error.WriteLineAsync($"error: {e.Message}");
                return 1;
            }
        }
    }

    static async Task<int> ListAsync(CliContext cli, string? dataDirectory, bool json)
    {
        var storage = await cli.OpenStorageAsync(dataDirectory);
        await using (storage)
        {
            var users = await storage.Get<UserAdministration>().ListAsync(cli.CancellationToken);
            if (json)
            {
                await cli.WriteJsonAsync(users.Select(u => new UserReport(u.Name, u.Role, u.LockedOut)).ToList());
                return 0;
            }
            foreach (var user in users)
                await cli.Output.WriteLineAsync($"{user.Name}\t{user.Role}{(user.LockedOut ? "\tlocked" : "")}");
            return 0;
        }
    }
}
