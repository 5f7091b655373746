using System;
using System.Linq;
using ProcessPool.Engine.Methods;
using Xunit;
using static ProcessPool.Engine.Tests.TestHosts;

namespace ProcessPool.Engine.Tests
{
    /// <summary><see cref="WorkerLaunch.RuntimeSettings"/>: they reach the worker's runtime, not what its items see or start.</summary>
    public sealed class RuntimeSettingsTests
    {
        private static string EnvInWorker(WorkerLaunch launch, string name)
        {
            using var pool = new WorkerPool(Options(1, launch));
            try
            {
                return MethodJson.Decode<string>(pool.Map(new[] { MethodJson.Encode(name) }, Method("Env")).Single().Outputs.Single())!;
            }
            finally
            {
                pool.Dispose();
                AssertNoLeaks(pool);
            }
        }

        [Fact]
        public void Launch_RuntimeSetting_RemovedBeforeItemsRun()
        {
            var launch = WorkerLaunch();
            launch.RuntimeSettings["DOTNET_PROCESSPOOL_TEST_SETTING"] = "1";
            Assert.Equal("<unset>", EnvInWorker(launch, "DOTNET_PROCESSPOOL_TEST_SETTING"));
            Assert.Equal("<unset>", EnvInWorker(launch, "PROCESSPOOL_RUNTIME_SETTINGS"));
        }

        [Fact]
        public void Launch_EnvironmentSetsTheSameVariable_UserValueKeptForItems()
        {
            var launch = WorkerLaunch();
            launch.RuntimeSettings["DOTNET_PROCESSPOOL_TEST_SETTING"] = "1";
            launch.Environment["DOTNET_PROCESSPOOL_TEST_SETTING"] = "mine";
            Assert.Equal("mine", EnvInWorker(launch, "DOTNET_PROCESSPOOL_TEST_SETTING"));
        }

        [Fact]
        public void Apply_ParentSetsTheOlderComPlusName_SettingLeftOut()
        {
            var launch = WorkerLaunch();
            launch.RuntimeSettings["DOTNET_PROCESSPOOL_TEST_OLD_NAME"] = "1";
            launch.RuntimeSettings["DOTNET_PROCESSPOOL_TEST_UNSET"] = "1";
            Environment.SetEnvironmentVariable("COMPlus_PROCESSPOOL_TEST_OLD_NAME", "0");
            try
            {
                var environment = new System.Collections.Generic.Dictionary<string, string?>();
                ProcessPool.Engine.Worker.RuntimeSettings.Apply(launch, environment);
                Assert.False(environment.ContainsKey("DOTNET_PROCESSPOOL_TEST_OLD_NAME"));
                Assert.Equal("1", environment["DOTNET_PROCESSPOOL_TEST_UNSET"]);
                var added = environment[ProcessPool.Engine.Worker.RuntimeSettings.Variable]!.Split(';');
                Assert.Contains("DOTNET_PROCESSPOOL_TEST_UNSET", added);
                Assert.DoesNotContain("DOTNET_PROCESSPOOL_TEST_OLD_NAME", added);
            }
            finally
            {
                Environment.SetEnvironmentVariable("COMPlus_PROCESSPOOL_TEST_OLD_NAME", null);
            }
        }

        [Fact]
        public void ForDotnetWorker_HasTheChosenSettings()
        {
            var launch = ProcessPool.Engine.WorkerLaunch.ForDotnetWorker(WorkerDll);
            Assert.Equal(ProcessPool.Engine.WorkerLaunch.DotnetWorkerSettings.OrderBy(p => p.Key), launch.RuntimeSettings.OrderBy(p => p.Key));
        }
    }
}
