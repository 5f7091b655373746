using System;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using System.Runtime.InteropServices;
using ProcessPool.Engine;

namespace ProcessPool.Commands
{
    /// <summary>
    /// Finds the PowerShell that workers run: the same version and edition as the caller wherever it can be found,
    /// never a host that is not PowerShell (an IDE, a service, or the <c>dotnet</c> muxer of a .NET tool install).
    /// </summary>
    internal static class PowerShellLocator
    {
        /// <summary>Names the PowerShell executable for workers, for hosts where none can be found.</summary>
        public const string OverrideVariable = "PROCESSPOOL_POWERSHELL";

        /// <summary>
        /// In order: <see cref="OverrideVariable"/>; the current process when it is pwsh or powershell.exe; the
        /// <c>pwsh.dll</c> in $PSHOME run by the current <c>dotnet</c> when PowerShell runs as a .NET tool; pwsh or
        /// powershell.exe in $PSHOME; Windows PowerShell's own path on .NET Framework; pwsh on PATH.
        /// </summary>
        /// <exception cref="BrokenPoolException">No PowerShell was found; the message says how to name one.</exception>
        public static WorkerLaunch Find()
        {
            string? named = Environment.GetEnvironmentVariable(OverrideVariable);
            if (!string.IsNullOrEmpty(named))
            {
                if (File.Exists(named)) return new WorkerLaunch(named!);
                throw new BrokenPoolException($"$env:{OverrideVariable} names '{named}', which does not exist. Point it at pwsh or powershell.exe.");
            }

            string? current = CurrentProcessPath();
            string currentName = current == null ? "" : Path.GetFileNameWithoutExtension(current);
            if (IsPowerShellName(currentName)) return new WorkerLaunch(current!);

            string home = Path.GetDirectoryName(typeof(PSObject).Assembly.Location) ?? "";
            string pwshDll = Path.Combine(home, "pwsh.dll");
            if (currentName.Equals("dotnet", StringComparison.OrdinalIgnoreCase) && File.Exists(pwshDll))
                return new WorkerLaunch(current!, new[] { pwshDll });

            bool windows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);
            foreach (string candidate in windows ? new[] { "pwsh.exe", "powershell.exe" } : new[] { "pwsh" })
            {
                string path = Path.Combine(home, candidate);
                if (File.Exists(path)) return new WorkerLaunch(path);
            }
            if (windows && RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.Ordinal))
            {
                string system = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.System), @"WindowsPowerShell\v1.0\powershell.exe");
                if (File.Exists(system)) return new WorkerLaunch(system);
            }
            string? onPath = FindOnPath(windows ? "pwsh.exe" : "pwsh");
            if (onPath != null) return new WorkerLaunch(onPath);

            throw new BrokenPoolException(
                $"No PowerShell executable was found to run workers: this session runs in '{current ?? "an unknown host"}', which is not " +
                $"PowerShell, and neither $PSHOME ('{home}') nor PATH holds pwsh. Set $env:{OverrideVariable} to the path of pwsh or powershell.exe.");
        }

        private static string? CurrentProcessPath()
        {
            try { return Process.GetCurrentProcess().MainModule?.FileName; }
            catch (Exception) { return null; } // some hosts deny access to their own module list
        }

        private static bool IsPowerShellName(string name) =>
            name.Equals("pwsh", StringComparison.OrdinalIgnoreCase) || name.Equals("powershell", StringComparison.OrdinalIgnoreCase);

        private static string? FindOnPath(string fileName)
        {
            foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(new[] { Path.PathSeparator }, StringSplitOptions.RemoveEmptyEntries))
            {
                string candidate = Path.Combine(dir.Trim('"'), fileName);
                if (File.Exists(candidate)) return candidate;
            }
            return null;
        }
    }
}
