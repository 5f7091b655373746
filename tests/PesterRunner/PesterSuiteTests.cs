using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Xunit;
using Xunit.Abstractions;

namespace ProcessPool.PesterRunner
{
    /// <summary>
    /// The Pester suite as one xunit test, so that <c>dotnet test</c> at the repository root runs it on any machine with the
    /// .NET SDK: PowerShell is pwsh on PATH or the pinned .NET tool, Pester the pinned NuGet package. A failing Pester test
    /// fails this one with the names and messages of the Pester tests that failed. The suite's counts are written to
    /// <c>TestResults/Pester/summary.txt</c>, which <c>.ci/run</c> adds to its totals in place of this one test.
    /// </summary>
    public sealed class PesterSuiteTests
    {
        /// <summary>The whole suite starts a few hundred worker processes; on a busy two-core machine that takes minutes.</summary>
        private static readonly TimeSpan SuiteTimeout = TimeSpan.FromMinutes(30);

        private readonly ITestOutputHelper _output;

        public PesterSuiteTests(ITestOutputHelper output) => _output = output;

        [Fact]
        public void PesterSuite_AgainstBuiltModule_EveryTestPasses()
        {
            string root = PowerShell.RepositoryRoot();
            string module = Path.GetFullPath(Metadata("ModuleManifestPath"));
            Assert.True(File.Exists(module), $"The module is not laid out at {module}; the PoolCmdlets build should have done it.");
            string pester = Metadata("PesterModulePath");
            Assert.True(File.Exists(pester), $"Pester is not at {pester}; the restore of tests/PesterRunner should have put it there.");
            string suite = Path.Combine(root, "tests", "Pester", "Invoke-PesterSuite.ps1");
            string results = Path.Combine(root, "TestResults", "Pester");
            Directory.CreateDirectory(results);
            string summaryFile = Path.Combine(results, "summary.txt");
            File.Delete(summaryFile);

            var (exitCode, lines) = PowerShell.Run(root, SuiteTimeout, "-NoProfile", "-NonInteractive", "-Command",
                $"& {Quote(suite)} -ModulePath {Quote(module)} -PesterPath {Quote(pester)} -ResultPath {Quote(Path.Combine(results, "results.xml"))}; exit $LASTEXITCODE");

            foreach (string line in lines.Where(l => l.StartsWith("PESTER-", StringComparison.Ordinal))) _output.WriteLine(line);
            var failed = lines.Where(l => l.StartsWith("PESTER-FAILED: ", StringComparison.Ordinal)).Select(l => l.Substring("PESTER-FAILED: ".Length)).ToList();
            string? summary = lines.LastOrDefault(l => l.StartsWith("PESTER-SUMMARY: ", StringComparison.Ordinal));
            File.WriteAllText(summaryFile, (summary ?? "PESTER-SUMMARY: the suite did not finish") + Environment.NewLine);
            if (exitCode != 0 || failed.Count > 0 || summary == null)
            {
                Assert.Fail($"Pester: {summary ?? "(no summary: the suite did not finish)"}{Environment.NewLine}Failed:{Environment.NewLine}  " +
                    $"{string.Join(Environment.NewLine + "  ", failed)}{Environment.NewLine}Exit code {exitCode}. Failure details:{Environment.NewLine}{Details(lines)}");
            }
            Assert.Contains(", failed 0,", summary);
            Assert.Contains(", skipped 0,", summary);
        }

        private static string Quote(string value) => "'" + value.Replace("'", "''") + "'";

        /// <summary>A path the build recorded in this assembly: where the restore put Pester, where the module was laid out.</summary>
        private static string Metadata(string key) =>
            typeof(PesterSuiteTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

        /// <summary>Pester's lines for each failed test (its "[-]" line and the explanation under it), or the last lines when there are none.</summary>
        private static string Details(List<string> lines)
        {
            var details = new List<string>();
            for (int i = 0; i < lines.Count; i++)
                if (lines[i].TrimStart().StartsWith("[-]", StringComparison.Ordinal)) details.AddRange(lines.Skip(i).Take(12));
            return string.Join(Environment.NewLine, details.Count > 0 ? details : lines.Skip(Math.Max(0, lines.Count - 40)));
        }
    }
}
