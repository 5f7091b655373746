using System;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using System.Runtime.InteropServices;
using ProcessPool.Commands.Worker;
using ProcessPool.Engine;
using ProcessPool.Engine.Methods;
using ProcessPool.Engine.Worker;

namespace ProcessPool.Commands
{
    /// <summary>Engine options for the module's pools: workers are the caller's own PowerShell executable running <see cref="ScriptWorkerHost"/>.</summary>
    internal static class PoolFactory
    {
        /// <summary>
        /// The default pool lets idle workers go after two minutes: long enough that the next command at an
        /// interactive prompt finds them warm, short enough that a session does not hold a PowerShell per core for long.
        /// </summary>
        public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMinutes(2);

        public static PoolOptions DefaultOptions()
        {
            var options = Options(PoolRegistry.DefaultName, Environment.ProcessorCount, new ScriptSetup(), null);
            options.IdleTimeout = DefaultIdleTimeout;
            return options;
        }

        /// <summary>Options for a pool; every worker opens its script runspace at start (so the pool is warm) and runs the method initializer when one is given.</summary>
        public static PoolOptions Options(string name, int size, ScriptSetup script, MethodSetup? method)
        {
            var options = new PoolOptions(Launch()) { Name = name, Size = size };
            options.RunnerSetup[ScriptWorkerHost.ScriptKind] = script.Encode();
            if (method != null) options.RunnerSetup[WorkerMain.MethodKind] = method.Encode();
            return options;
        }

        public static WorkerLaunch Launch() => ScriptWorkerHost.Launch(PowerShellExecutable(), typeof(PoolFactory).Assembly.Location);

        /// <summary>
        /// The PowerShell executable hosting this session (pwsh or powershell.exe), so workers run the same version
        /// and edition. A custom host (an IDE, a service) is not a worker: then the pwsh or powershell.exe beside
        /// System.Management.Automation ($PSHOME) serves.
        /// </summary>
        public static string PowerShellExecutable()
        {
            string? current = null;
            try { current = Process.GetCurrentProcess().MainModule?.FileName; }
            catch (Exception) { /* some hosts deny access to their own module list */ }
            if (current != null && IsPowerShell(current)) return current;

            string home = Path.GetDirectoryName(typeof(PSObject).Assembly.Location) ?? "";
            bool windows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
            foreach (string candidate in windows ? new[] { "pwsh.exe", "powershell.exe" } : new[] { "pwsh" })
            {
                string path = Path.Combine(home, candidate);
                if (File.Exists(path)) return path;
            }
            if (windows && RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.Ordinal))
                return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.System), @"WindowsPowerShell\v1.0\powershell.exe");
            return current ?? "pwsh";
        }

        private static bool IsPowerShell(string path)
        {
            string name = Path.GetFileNameWithoutExtension(path);
            return name.Equals("pwsh", StringComparison.OrdinalIgnoreCase) || name.Equals("powershell", StringComparison.OrdinalIgnoreCase);
        }
    }
}
