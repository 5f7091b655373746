using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;

namespace ProcessPool.PesterRunner
{
    /// <summary>
    /// Starts PowerShell the way tools/Find-PowerShell.ps1 does for build.ps1 and the tests: pwsh on PATH if there is
    /// one, else the pinned .NET tool (.config/dotnet-tools.json), restored first. Never the current process image.
    /// </summary>
    internal static class PowerShell
    {
        public static string RepositoryRoot()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "ProcessPool.slnx"))) return dir.FullName;
            throw new DirectoryNotFoundException("The repository root (ProcessPool.slnx) was not found above " + AppContext.BaseDirectory);
        }

        /// <summary>Runs PowerShell from <paramref name="root"/> and returns its exit code and output lines; on timeout the whole process tree is killed.</summary>
        public static (int ExitCode, List<string> Lines) Run(string root, TimeSpan timeout, params string[] arguments)
        {
            var command = Command(root);
            var info = new ProcessStartInfo(command[0])
            {
                WorkingDirectory = root, // 'dotnet tool run' finds the tool manifest from here
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                StandardOutputEncoding = Encoding.UTF8,
                StandardErrorEncoding = Encoding.UTF8,
            };
            foreach (string argument in command.GetRange(1, command.Count - 1)) info.ArgumentList.Add(argument);
            foreach (string argument in arguments) info.ArgumentList.Add(argument);
            info.Environment["NO_COLOR"] = "1";
            var lines = new List<string>();
            using var process = new Process { StartInfo = info };
            process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (lines) lines.Add(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (lines) lines.Add(e.Data); };
            process.Start();
            process.StandardInput.Close();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (!process.WaitForExit((int)timeout.TotalMilliseconds))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                lock (lines) lines.Add($"PESTER-FAILED: PowerShell did not finish within {timeout.TotalMinutes:0} minutes and was killed");
                return (-1, lines);
            }
            process.WaitForExit(); // drains the output readers
            lock (lines) return (process.ExitCode, new List<string>(lines));
        }

        /// <summary>The command line prefix that starts PowerShell.</summary>
        private static List<string> Command(string root)
        {
            string? onPath = FindOnPath(RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "pwsh.exe" : "pwsh");
            if (onPath != null) return new List<string> { onPath };
            var (exitCode, output) = RunDotnet(root, "tool", "restore");
            if (exitCode != 0) throw new InvalidOperationException($"pwsh is not on PATH and 'dotnet tool restore' failed ({exitCode}):{Environment.NewLine}{output}");
            return new List<string> { "dotnet", "tool", "run", "pwsh" };
        }

        private static (int ExitCode, string Output) RunDotnet(string root, params string[] arguments)
        {
            var info = new ProcessStartInfo("dotnet") { WorkingDirectory = root, UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string argument in arguments) info.ArgumentList.Add(argument);
            using var process = Process.Start(info)!;
            var error = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output + error.Result);
        }

        private static string? FindOnPath(string fileName)
        {
            foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                string candidate = Path.Combine(dir.Trim('"'), fileName);
                if (File.Exists(candidate)) return candidate;
            }
            return null;
        }
    }
}
