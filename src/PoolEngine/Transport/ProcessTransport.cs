using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;

namespace ProcessPool.Engine.Transport
{
    /// <summary>A worker that is a child process of this one: its stdin and stdout are the protocol, its stderr is reported line by line.</summary>
    internal class ProcessTransport : IWorkerTransport
    {
        private const int RecentLines = 8;

        private readonly Action<string> _onErrorLine;
        private readonly Action<Exception>? _onRelayFailed;
        private readonly Queue<string> _recentErrors = new Queue<string>();
        private readonly ManualResetEventSlim _errorClosed = new ManualResetEventSlim(false);
        private Process? _process;
        /// <summary>Windows: the job that ends whatever the worker started once it is closed (after the worker was reaped).</summary>
        private KillOnCloseJob? _job;

        public ProcessTransport(WorkerLaunch launch, Action<string> onErrorLine, Action<Exception>? onRelayFailed = null)
        {
            Launch = launch;
            _onErrorLine = onErrorLine;
            _onRelayFailed = onRelayFailed;
        }

        protected WorkerLaunch Launch { get; }

        public int ProcessId { get; private set; }

        public virtual string? HostName => null;

        public Stream ToWorker => Child.StandardInput.BaseStream;

        public Stream FromWorker => Child.StandardOutput.BaseStream;

        private Process Child => _process ?? throw new InvalidOperationException("The worker process was not started.");

        public void Start()
        {
            var launch = Launch;
            launch.BeforeStart?.Invoke();
            var info = new ProcessStartInfo(launch.FileName, launch.CommandLine())
            {
                UseShellExecute = false,
                CreateNoWindow = true,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            if (launch.WorkingDirectory != null) info.WorkingDirectory = launch.WorkingDirectory;
            Worker.RuntimeSettings.Apply(launch, info.Environment);
            foreach (var pair in launch.Environment) info.Environment[pair.Key] = pair.Value;
            info.Environment[Worker.ParentWatch.ParentPidVariable] = Process.GetCurrentProcess().Id.ToString();

            var process = new Process { StartInfo = info };
            try
            {
                process.Start();
            }
            catch (Exception error)
            {
                process.Dispose();
                throw new BrokenPoolException($"Could not start worker executable '{launch.FileName}': {error.Message}", error);
            }
            _process = process;
            ProcessId = process.Id;
            _job = KillOnCloseJob.TryCreate(process);
            // Not BeginErrorReadLine: the runtime's line reader holds a line without a break whole, however long it gets.
            var stderr = process.StandardError;
            new Thread(() => RelayErrorOutput(stderr)) { IsBackground = true, Name = $"ProcessPool stderr {process.Id}" }.Start();
        }

        /// <summary>
        /// The stderr thread: lines of bounded length (<see cref="OutputLines"/>) to the pool, the last few kept to explain
        /// a failed start; whatever escapes it goes to the relay-failure callback (a pool fault), not the end of the host process.
        /// </summary>
        private void RelayErrorOutput(TextReader stderr)
        {
            try
            {
                OutputLines.Pump(stderr, OutputLines.MaxLineChars, line =>
                {
                    lock (_recentErrors)
                    {
                        if (_recentErrors.Count == RecentLines) _recentErrors.Dequeue();
                        _recentErrors.Enqueue(line);
                    }
                    _onErrorLine(line); // the pool turns a subscriber's failure into a pool fault
                });
            }
            catch (Exception error) when (_onRelayFailed != null)
            {
                _onRelayFailed(error);
            }
            finally
            {
                _errorClosed.Set();
            }
        }

        public virtual void Connect() => Launch.Preamble?.Run(ToWorker, FromWorker);

        public void Kill()
        {
            var process = _process;
            if (process != null) ProcessTree.Kill(process);
        }

        public (int? ExitCode, int? Signal) AwaitExit(TimeSpan grace, Action onGraceExpired)
        {
            var process = _process;
            if (process == null) return (null, null);
            try
            {
                // A worker whose stream ended is exiting; one that has not within a grace period is killed.
                if (!process.WaitForExit((int)grace.TotalMilliseconds))
                {
                    onGraceExpired();
                    process.WaitForExit(5000);
                }
                if (!process.HasExited) return (null, null);
                int code = process.ExitCode;
                bool unix = !System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows);
                // .NET reports a Unix process ended by signal N as exit code 128 + N.
                if (unix && code > 128 && code < 128 + 32) return (code, code - 128);
                return (code, null);
            }
            catch (InvalidOperationException) { return (null, null); }
        }

        public virtual string? ExplainEnd(int? exitCode, int? signal)
        {
            string tail = RecentErrorOutput();
            return tail.Length == 0 ? null : $"its last error output: {tail}";
        }

        /// <summary>The last lines the process wrote to stderr, joined; waits briefly for stderr to close so a dying process's last words are not lost.</summary>
        protected string RecentErrorOutput()
        {
            _errorClosed.Wait(TimeSpan.FromSeconds(1));
            lock (_recentErrors) return string.Join(" ", _recentErrors).Trim();
        }

        public void Dispose()
        {
            _job?.Dispose();
            _process?.Dispose();
        }
    }
}
