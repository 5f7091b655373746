using System;
using System.Collections.Generic;
using System.Text;

namespace ProcessPool.Engine
{
    /// <summary>How to start one worker process: the engine never hard-codes an executable, so the same pool runs a .NET host, PowerShell, or ssh reaching either on another host.</summary>
    public sealed class WorkerLaunch
    {
        /// <summary>Creates a launch description.</summary>
        public WorkerLaunch(string fileName, IEnumerable<string>? arguments = null)
        {
            FileName = fileName ?? throw new ArgumentNullException(nameof(fileName));
            Arguments = new List<string>(arguments ?? Array.Empty<string>());
        }

        /// <summary>The executable.</summary>
        public string FileName { get; }

        /// <summary>Arguments, each passed as one argument whatever it contains.</summary>
        public IList<string> Arguments { get; }

        /// <summary>Extra environment variables for the worker.</summary>
        public IDictionary<string, string> Environment { get; } = new Dictionary<string, string>();

        /// <summary>
        /// Runtime settings (<c>DOTNET_*</c> variables) the worker process starts with, applied where neither the
        /// parent's environment nor <see cref="Environment"/> sets the variable (the user's choice wins). The worker
        /// removes them from its environment once its runtime has read them (<see cref="Worker.RuntimeSettings"/>), so
        /// the processes its items start, and a script map's environment, never see them. Empty by default;
        /// <see cref="ForDotnetWorker"/> fills in <see cref="DotnetWorkerSettings"/>.
        /// </summary>
        public IDictionary<string, string> RuntimeSettings { get; } = new Dictionary<string, string>();

        /// <summary>
        /// The .NET worker's runtime settings, chosen by measurement (bench/README.md, "Worker runtime settings"):
        /// call counting from the first call (<c>TC_CallCountingDelayMs=0</c>), so hot paths reach optimized code
        /// while the first items run instead of after the 100 ms of quiet the runtime waits for by default. A worker
        /// is a server loop with a short start-up: the delay, meant to keep start-up JIT work down, only delays tier 1.
        /// </summary>
        public static IReadOnlyDictionary<string, string> DotnetWorkerSettings { get; } = new Dictionary<string, string>
        {
            ["DOTNET_TC_CallCountingDelayMs"] = "0",
        };

        /// <summary>The plain .NET worker (<c>ProcessPool.Worker.dll</c>) run by <paramref name="dotnet"/> (default: <c>dotnet</c> on the PATH), with <see cref="DotnetWorkerSettings"/>.</summary>
        public static WorkerLaunch ForDotnetWorker(string workerDll, string? dotnet = null)
        {
            var launch = new WorkerLaunch(dotnet ?? "dotnet", new[] { "exec", workerDll ?? throw new ArgumentNullException(nameof(workerDll)) });
            foreach (var pair in DotnetWorkerSettings) launch.RuntimeSettings[pair.Key] = pair.Value;
            return launch;
        }

        /// <summary>Runs before each start of a process from this launch, for instance to restore a file its arguments name if it went missing. Null by default.</summary>
        public Action? BeforeStart { get; set; }

        /// <summary>Working directory, or null for the parent's.</summary>
        public string? WorkingDirectory { get; set; }

        /// <summary>The remote host this launch reaches through ssh (as shown in messages), or null for a local worker.</summary>
        public string? HostName { get; set; }

        /// <summary>An exchange on the raw streams before the protocol starts (for ssh: shipping the worker assemblies), or null.</summary>
        public IWorkerPreamble? Preamble { get; set; }

        /// <summary>The transport that runs this launch: an ssh child for a remote host, a plain child process otherwise.</summary>
        internal Transport.IWorkerTransport CreateTransport(Action<string> onErrorLine, Action<Exception>? onRelayFailed = null) =>
            HostName != null ? new Transport.SshTransport(this, onErrorLine, onRelayFailed) : new Transport.ProcessTransport(this, onErrorLine, onRelayFailed);

        /// <summary>The arguments as one command line, quoted so that both the Windows and the .NET-on-Unix parsers split it back into <see cref="Arguments"/>.</summary>
        public string CommandLine()
        {
            var line = new StringBuilder();
            foreach (string argument in Arguments)
            {
                if (line.Length > 0) line.Append(' ');
                AppendQuoted(line, argument);
            }
            return line.ToString();
        }

        private static void AppendQuoted(StringBuilder line, string argument)
        {
            if (argument.Length > 0 && argument.IndexOfAny(new[] { ' ', '\t', '\n', '\v', '"' }) < 0)
            {
                line.Append(argument);
                return;
            }
            line.Append('"');
            int backslashes = 0;
            foreach (char c in argument)
            {
                if (c == '\\') { backslashes++; continue; }
                if (c == '"') line.Append('\\', backslashes * 2 + 1);
                else line.Append('\\', backslashes);
                backslashes = 0;
                line.Append(c);
            }
            line.Append('\\', backslashes * 2);
            line.Append('"');
        }

        /// <inheritdoc />
        public override string ToString() => FileName + (Arguments.Count > 0 ? " " + CommandLine() : "");
    }
}
