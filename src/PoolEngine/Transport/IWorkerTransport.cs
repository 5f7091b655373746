using System;
using System.IO;

namespace ProcessPool.Engine.Transport
{
    /// <summary>
    /// The byte pipe to one worker and the means to end it: a local child process (<see cref="ProcessTransport"/>) or an
    /// <c>ssh</c> child whose channel reaches a worker on another host (<see cref="SshTransport"/>). Scheduling, crash
    /// blame and the protocol sit above this and are the same for both.
    /// Threading: <see cref="Start"/> runs on a thread-pool thread; <see cref="Connect"/> and <see cref="FromWorker"/> on
    /// the worker's reader thread; <see cref="ToWorker"/> on its writer thread; <see cref="Kill"/> on any thread.
    /// </summary>
    internal interface IWorkerTransport : IDisposable
    {
        /// <summary>Pid of the local process (the worker itself, or the ssh client).</summary>
        int ProcessId { get; }

        /// <summary>Where the worker runs: null for this machine, else the ssh destination as the user wrote it.</summary>
        string? HostName { get; }

        /// <summary>Bytes to the worker (its stdin).</summary>
        Stream ToWorker { get; }

        /// <summary>Bytes from the worker (its stdout).</summary>
        Stream FromWorker { get; }

        /// <summary>Launches the process; throws <see cref="BrokenPoolException"/> when the executable cannot be started.</summary>
        void Start();

        /// <summary>Blocks until the streams carry the protocol (the launch's preamble, if any, has run). Reader thread only.</summary>
        void Connect();

        /// <summary>Ends the worker and every process it started; for ssh, the channel closes and the remote worker exits on EOF.</summary>
        void Kill();

        /// <summary>Waits for the process to end (killing it after <paramref name="grace"/>); the exit code and the Unix signal that ended it, when known.</summary>
        (int? ExitCode, int? Signal) AwaitExit(TimeSpan grace, Action onGraceExpired);

        /// <summary>A sentence on why the worker ended, for start failures and lost workers (ssh's own message for ssh failures), or null.</summary>
        string? ExplainEnd(int? exitCode, int? signal);
    }
}
