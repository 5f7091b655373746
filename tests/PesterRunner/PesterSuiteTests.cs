using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace ProcessPool.PesterRunner
{
    /// <summary>
    /// The Pester suite as one xunit test, so that <c>dotnet test</c> at the repository root runs it wherever PowerShell
    /// is installed. Without <c>pwsh</c> on PATH the test is skipped and says so; a failing Pester test fails this one
    /// with the names of the Pester tests that failed.
    /// </summary>
    public sealed class PesterSuiteTests
    {
        /// <summary>The whole suite starts a few hundred worker processes; on a busy two-core machine that takes minutes.</summary>
        private static readonly TimeSpan SuiteTimeout = TimeSpan.FromMinutes(30);

        private readonly ITestOutputHelper _output;

        public PesterSuiteTests(ITestOutputHelper output) => _output = output;

        [PwshFact]
        public void PesterSuite_AgainstBuiltModule_EveryTestPasses()
        {
            string root = Pwsh.RepositoryRoot();
            string module = Path.Combine(root, "out", "ProcessPool", "ProcessPool.psd1");
            Assert.True(File.Exists(module), $"The module is not laid out at {module}; the PoolCmdlets build should have done it.");
            string suite = Path.Combine(root, "tests", "Pester", "Invoke-PesterSuite.ps1");

            var (exitCode, lines) = Pwsh.Run(root, SuiteTimeout, "-NoProfile", "-NonInteractive", "-Command",
                $"& '{suite.Replace("'", "''")}' -ModulePath '{module.Replace("'", "''")}'; exit $LASTEXITCODE");

            foreach (string line in lines.Where(l => l.StartsWith("PESTER-", StringComparison.Ordinal))) _output.WriteLine(line);
            var failed = lines.Where(l => l.StartsWith("PESTER-FAILED: ", StringComparison.Ordinal)).Select(l => l.Substring("PESTER-FAILED: ".Length)).ToList();
            string summary = lines.LastOrDefault(l => l.StartsWith("PESTER-SUMMARY: ", StringComparison.Ordinal)) ?? "(no summary: the suite did not finish)";
            if (exitCode != 0 || failed.Count > 0)
            {
                Assert.Fail($"Pester: {summary}{Environment.NewLine}Failed:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", failed)}" +
                    $"{Environment.NewLine}Exit code {exitCode}. Failure details:{Environment.NewLine}{Details(lines)}");
            }
            Assert.Contains("failed 0", summary);
        }

        /// <summary>Pester's lines for each failed test (its "[-]" line and the explanation under it), or the last lines when there are none.</summary>
        private static string Details(List<string> lines)
        {
            var details = new List<string>();
            for (int i = 0; i < lines.Count; i++)
                if (lines[i].TrimStart().StartsWith("[-]", StringComparison.Ordinal)) details.AddRange(lines.Skip(i).Take(12));
            return string.Join(Environment.NewLine, details.Count > 0 ? details : lines.Skip(Math.Max(0, lines.Count - 40)));
        }
    }

    /// <summary>
    /// A fact that is skipped when pwsh is not on PATH. The reason is also its display name then, because the console
    /// logger of a plain <c>dotnet test</c> prints the names of skipped tests but not their reasons.
    /// </summary>
    public sealed class PwshFactAttribute : FactAttribute
    {
        public const string SkipReason = "Pester suite skipped: pwsh not found on PATH";

        public PwshFactAttribute()
        {
            if (Pwsh.FindOnPath() != null) return;
            Skip = SkipReason;
            DisplayName = SkipReason;
        }
    }

    internal static class Pwsh
    {
        public static string? FindOnPath()
        {
            string[] names = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? new[] { "pwsh.exe" } : new[] { "pwsh" };
            foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                foreach (string name in names)
                {
                    string candidate = Path.Combine(dir.Trim('"'), name);
                    if (File.Exists(candidate)) return candidate;
                }
            return null;
        }

        public static string RepositoryRoot()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "ProcessPool.slnx"))) return dir.FullName;
            throw new DirectoryNotFoundException("The repository root (ProcessPool.slnx) was not found above " + AppContext.BaseDirectory);
        }

        /// <summary>Runs pwsh and returns its exit code and output lines; on timeout the whole process tree is killed.</summary>
        public static (int ExitCode, List<string> Lines) Run(string workingDirectory, TimeSpan timeout, params string[] arguments)
        {
            var info = new ProcessStartInfo(FindOnPath()!)
            {
                WorkingDirectory = workingDirectory,
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                StandardOutputEncoding = Encoding.UTF8,
                StandardErrorEncoding = Encoding.UTF8,
            };
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
                lock (lines) lines.Add($"PESTER-FAILED: the suite did not finish within {timeout.TotalMinutes:0} minutes and was killed");
                return (-1, lines);
            }
            process.WaitForExit(); // drains the output readers
            lock (lines) return (process.ExitCode, new List<string>(lines));
        }
    }
}
