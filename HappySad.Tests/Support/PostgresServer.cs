using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace HappySad.Tests.Support;

/// <summary>
/// A PostgreSQL server for the tests that run on PostgreSQL, each of which gets a fresh database of
/// its own. The server is the one <c>HAPPYSAD_TEST_POSTGRES</c> names (a connection string whose user
/// may CREATE DATABASE), or else a throwaway cluster this fixture starts in a temporary folder on a
/// free loopback port and removes afterwards. When neither can be had the tests fail with the reason.
/// </summary>
/// <remarks>
/// The cluster is one per test process: every collection that declares this fixture shares it, and
/// the last one to finish stops it.
/// </remarks>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string Name = "PostgreSQL";
    public const string Variable = "HAPPYSAD_TEST_POSTGRES";

    static readonly SemaphoreSlim Gate = new(1, 1);
    static Cluster? _cluster;
    static int _users;

    readonly List<string> _databases = [];
    string? _server;

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } given)
        {
            _server = given;
        }
        else
        {
            await Gate.WaitAsync();
            try
            {
                _cluster ??= await Cluster.StartAsync();
                _users++;
                _server = _cluster.ConnectionString;
            }
            finally
            {
                Gate.Release();
            }
        }
        try
        {
            await using var connection = new NpgsqlConnection(_server);
            await connection.OpenAsync();
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidOperationException($"PostgreSQL at '{Redacted(_server)}' cannot be reached: {e.Message}", e);
        }
    }

    /// <summary>A new, empty database on the server, dropped when the tests are done.</summary>
    public TestDatabase CreateDatabase()
    {
        var database = NameDatabase();
        using var connection = new NpgsqlConnection(_server);
        connection.Open();
        using var create = new NpgsqlCommand($"CREATE DATABASE {new NpgsqlConnectionStringBuilder(database.ConnectionString).Database}", connection);
        create.ExecuteNonQuery();
        return database;
    }

    /// <summary>A database on the server that does not exist yet (the app is to create it), dropped when the tests are done.</summary>
    public TestDatabase NameDatabase()
    {
        var server = _server ?? throw new InvalidOperationException("The PostgreSQL fixture has not started.");
        var name = "happysad_test_" + Guid.NewGuid().ToString("N");
        lock (_databases)
            _databases.Add(name);
        return TestDatabase.Postgres(new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        if (_server is null)
            return;
        try
        {
            // A server of one's own goes with its databases; on a shared one, tidy up after ourselves.
            await using var connection = new NpgsqlConnection(_server);
            await connection.OpenAsync();
            foreach (var name in _databases)
            {
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
                await drop.ExecuteNonQueryAsync();
            }
        }
        finally
        {
            if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 })
                await ReleaseClusterAsync();
        }
    }

    static async Task ReleaseClusterAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (--_users == 0 && _cluster is not null)
            {
                await _cluster.DisposeAsync();
                _cluster = null;
            }
        }
        finally
        {
            Gate.Release();
        }
    }

    static string Redacted(string connectionString)
    {
        try
        {
            return new NpgsqlConnectionStringBuilder(connectionString) { Password = null }.ConnectionString;
        }
        catch (ArgumentException)
        {
            return "(a connection string that does not parse)";
        }
    }

    /// <summary>
    /// <c>initdb</c> and <c>pg_ctl</c> over a temporary folder, as the <c>postgres</c> user when the
    /// tests run as root (initdb refuses root). Trust authentication on 127.0.0.1 only, no fsync.
    /// </summary>
    sealed class Cluster : IAsyncDisposable
    {
        readonly string _folder;
        readonly string _data;

        Cluster(string folder, int port)
        {
            _folder = folder;
            _data = Path.Combine(folder, "data");
            ConnectionString = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres";
        }

        public string ConnectionString { get; }

        public static async Task<Cluster> StartAsync()
        {
            var cluster = new Cluster(Directory.CreateTempSubdirectory("happysad-pg-").FullName, FreePort());
            try
            {
                if (Environment.IsPrivilegedProcess)
                    await RunAsync("chown", "postgres:postgres", cluster._folder);
                await RunPostgresAsync("initdb", "--pgdata", cluster._data, "--username", "postgres", "--auth", "trust", "--encoding", "UTF8", "--locale", "C", "--no-sync");
                var port = new NpgsqlConnectionStringBuilder(cluster.ConnectionString).Port;
                await RunPostgresAsync("pg_ctl", "start", "--wait", "--pgdata", cluster._data, "--log", Path.Combine(cluster._folder, "server.log"),
                    "-o", $"-p {port} -c listen_addresses=127.0.0.1 -k {cluster._folder} -F");
                return cluster;
            }
            catch (Exception e)
            {
                var log = Path.Combine(cluster._folder, "server.log");
                var detail = File.Exists(log) ? Environment.NewLine + await File.ReadAllTextAsync(log) : "";
                Directory.Delete(cluster._folder, recursive: true);
                throw new InvalidOperationException($"Could not start a throwaway PostgreSQL (set {Variable} to use a server of your own): {e.Message}{detail}", e);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await RunPostgresAsync("pg_ctl", "stop", "--wait", "--pgdata", _data, "--mode", "immediate");
            Directory.Delete(_folder, recursive: true);
        }

        static Task RunPostgresAsync(string program, params string[] arguments) =>
            Environment.IsPrivilegedProcess ? RunAsync("runuser", ["-u", "postgres", "--", program, .. arguments]) : RunAsync(program, arguments);

        static async Task RunAsync(string program, params string[] arguments)
        {
            var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
            foreach (var argument in arguments)
                start.ArgumentList.Add(argument);
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await error}{await output}");
        }

        static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}

/// <summary>The tests that need <see cref="PostgresServer"/> and train nothing.</summary>
[CollectionDefinition(PostgresServer.Name)]
public sealed class PostgresTests : ICollectionFixture<PostgresServer>;
