namespace HappySad.Web.Runs.Distributed;

/// <summary>Who trains the runs the dashboard queues.</summary>
public enum RunDispatchMode
{
    /// <summary>The web app itself, one run at a time (the embedded default).</summary>
    InProcess,

    /// <summary>
    /// <c>worker</c> processes on any machine that reaches the PostgreSQL database and the shared data
    /// directory; the web app only queues run ids in Hangfire.
    /// </summary>
    Hangfire,
}

/// <summary>Training workers, section <c>Workers</c>. The defaults keep everything in one process.</summary>
public sealed class WorkerOptions
{
    public RunDispatchMode Mode { get; set; } = RunDispatchMode.InProcess;

    /// <summary>
    /// How long a run claimed by a worker that stopped answering stays invisible before another worker
    /// claims it. A live worker keeps extending it (Hangfire's sliding invisibility timeout), so
    /// this bounds only how long a dead worker's run waits.
    /// </summary>
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often an idle worker looks for a queued run when no notification wakes it first.</summary>
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often a worker training a run reads it back from the database: a cancel recorded there
    /// (whose notification a dropped connection may have lost) stops it, and so does finding that
    /// another worker took the run over.
    /// </summary>
    public TimeSpan RunCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often a web node looks for runs that wait or train with no job in the queue to carry
    /// them (<see cref="RunSweeper"/>), and queues them again.
    /// </summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How old a run must be before a sweep may queue it again: a newer one may be between its row and its job.</summary>
    public TimeSpan SweepGrace { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Runs one worker trains at once. libtorch already uses every core for one run.</summary>
    public int RunsAtOnce { get; set; } = 1;

    /// <summary>How a worker is named on the runs it trains; <c>--name</c>, or the machine name and process id.</summary>
    public string? Name { get; set; }

    public string WorkerName => Name is { Length: > 0 } name ? name : $"{Environment.MachineName}-{Environment.ProcessId}";
}
