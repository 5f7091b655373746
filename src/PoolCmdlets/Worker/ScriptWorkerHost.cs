using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;
using ProcessPool.Engine;
using ProcessPool.Engine.Methods;
using ProcessPool.Engine.Worker;

namespace ProcessPool.Commands.Worker
{
    /// <summary>
    /// Entry point of a PowerShell worker process: the pool starts the caller's own PowerShell executable with
    /// <c>-NoProfile -NonInteractive</c> and a command that loads this assembly and calls <see cref="Run"/>, which
    /// claims stdio for the protocol and serves script blocks and static methods until the pool shuts it down.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static class ScriptWorkerHost
    {
        /// <summary>Payload kind of script blocks.</summary>
        public const string ScriptKind = "script";

        /// <summary>
        /// Runs the worker loop; returns the process exit code. The worker's PowerShell loaded this assembly without
        /// importing it as a module (the items' runspace imports the module), so the module's dependency resolution is
        /// installed here, before <see cref="Serve"/> touches a type that may need it.
        /// </summary>
        public static int Run()
        {
            DependencyResolver.Install();
            return Serve();
        }

        /// <summary>
        /// A remote worker on Linux or macOS ends without the runtime's shutdown, whose last act would be to rewrite
        /// PowerShell's shared start-up profile (see <see cref="RuntimeSettings"/>): the remote user's shell starts it, so
        /// it cannot be given <c>DOTNET_MultiCoreJitNoProfileGather</c> before it starts, as a local worker is.
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static int Serve()
        {
            Action<int>? exit = MapEnvironment.IsRemoteWorker && ImmediateExit.IsSupported ? ImmediateExit.Now : null;
            int code = WorkerMain.Run(new Dictionary<string, Func<IPayloadRunner>>
            {
                [ScriptKind] = () => new ScriptRunner(),
                [WorkerMain.MethodKind] = () => new MethodRunner(),
            }, exit);
            exit?.Invoke(code);
            return code;
        }

        /// <summary>
        /// How to start a worker: <paramref name="powerShell"/> (pwsh or powershell.exe, with any arguments it needs
        /// first) loading <paramref name="moduleAssembly"/>. The assembly is loaded, not imported: an import into the
        /// host's runspace, which never runs an item, was a second import of the module in every worker start.
        /// </summary>
        internal static WorkerLaunch Launch(WorkerLaunch powerShell, string moduleAssembly)
        {
            string command = $"$null = [System.Reflection.Assembly]::LoadFrom('{moduleAssembly.Replace("'", "''")}'); exit [{typeof(ScriptWorkerHost).FullName}]::Run()";
            var launch = new WorkerLaunch(powerShell.FileName, powerShell.Arguments);
            if (PowerShellHome(powerShell) is string home) WorkerLogSettings.AddTo(launch, home);
            foreach (string argument in new[] { "-NoProfile", "-NonInteractive", "-NoLogo", "-EncodedCommand", Convert.ToBase64String(Encoding.Unicode.GetBytes(command)) })
                launch.Arguments.Add(argument);
            foreach (var setting in powerShell.Environment) launch.Environment[setting.Key] = setting.Value;
            foreach (var setting in RuntimeSettings) launch.RuntimeSettings[setting.Key] = setting.Value;
            return launch;
        }

        /// <summary>
        /// The .NET runtime settings of a worker, unless the caller's environment sets them itself. Tiered PGO off: a
        /// worker runs the same few code paths (the driver, the codec, the user's block) thousands of times, and with
        /// PGO every hot method is compiled three times (quick, instrumented, optimized) instead of twice; measured on
        /// the one-liner, the workers' compilation thread burnt 1.0-1.7 s per 2,000 items for the first ~6,000 items
        /// with PGO and under 0.1 s after the first 2,000 without, at the same steady cost per item.
        /// Call counting from the first call (<c>TC_CallCountingDelayMs=0</c>, as the .NET worker has) is left out on
        /// purpose: the one-liner's workers then reach their steady speed after two runs instead of about eight, but
        /// they also compile PowerShell's own start-up for good, and a script that runs the one-liner once in a new
        /// process took 6.0 s instead of 4.1 s (bench/pwsh/README.md).
        /// A worker reads PowerShell's start-up profile (the methods to compile ahead, StartupProfileData-NonInteractive
        /// in its cache folder) but never records it: PowerShell rewrites that one file at every exit, in thousands of
        /// small writes and without a lock on Linux and macOS, so workers ending together interleave them, and a
        /// corrupted profile crashes every later non-interactive PowerShell start (PowerShell/PowerShell#26528).
        /// </summary>
        internal static readonly IReadOnlyDictionary<string, string> RuntimeSettings = new Dictionary<string, string>
        {
            ["DOTNET_TieredPGO"] = "0",
            ["DOTNET_MultiCoreJitNoProfileGather"] = "1",
        };

        /// <summary>The folder of the worker's PowerShell 7 ($PSHOME), or null when it is not one (Windows PowerShell, a name on PATH that is a link).</summary>
        private static string? PowerShellHome(WorkerLaunch powerShell)
        {
            string program = powerShell.Arguments.Count > 0 && powerShell.Arguments[0].EndsWith("pwsh.dll", StringComparison.OrdinalIgnoreCase)
                ? powerShell.Arguments[0]
                : powerShell.FileName;
            string? home = Path.GetDirectoryName(program);
            return home != null && File.Exists(Path.Combine(home, "pwsh.dll")) ? home : null;
        }
    }
}
