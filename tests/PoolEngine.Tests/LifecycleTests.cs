using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using ProcessPool.TestMethods;
using Xunit;
using static ProcessPool.Engine.Tests.TestHosts;

namespace ProcessPool.Engine.Tests
{
    public sealed class LifecycleTests
    {
        [Fact]
        public void NewPool_StartsAllWorkersInParallel_Warm()
        {
            using var pool = new WorkerPool(Options(3));
            Assert.True(pool.WaitForWorkers(TimeSpan.FromSeconds(30)));
            Assert.Equal(3, pool.GetWorkerProcessIds().Distinct().Count());
            Assert.Equal(3, pool.GetStats().Idle);
        }

        [Fact]
        public void Terminate_KillsWorkersNow_AndRunningMapsFail()
        {
            var pool = new WorkerPool(Options(2));
            var map = pool.StartMap(Method("SleepMs", o => o.ChunkSize = 1), Encode(Enumerable.Repeat(60_000, 4)));
            Assert.True(Eventually(() => pool.GetStats().Busy == 2));
            var clock = Stopwatch.StartNew();
            pool.Terminate();
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
            Assert.Throws<PoolClosedException>(() => map.GetResults().ToList());
            Assert.Equal(PoolState.Terminated, pool.State);
            Assert.Throws<PoolClosedException>(() => pool.StartMap(Method("Double")));
            AssertNoLeaks(pool);
        }

        [Fact]
        public void Close_FinishesQueuedWorkFirst()
        {
            var pool = new WorkerPool(Options(2));
            var map = pool.StartMap(Method("SleepMs", o => o.ChunkSize = 1), Encode(Enumerable.Repeat(50, 10)));
            pool.Close(TimeSpan.FromSeconds(60));
            Assert.Equal(10, map.GetResults().Count(r => r.Succeeded));
            Assert.Equal(PoolState.Closed, pool.State);
            AssertNoLeaks(pool);
        }

        [Fact]
        public void IdleTimeout_EndsIdleWorkers_AndThePoolRestartsThemLazily()
        {
            var options = Options(2);
            options.IdleTimeout = TimeSpan.FromMilliseconds(300);
            WithPool(options, pool =>
            {
                Assert.True(pool.WaitForWorkers(TimeSpan.FromSeconds(30)));
                var first = pool.GetWorkerProcessIds();
                Assert.True(Eventually(() => pool.GetWorkerProcessIds().Count == 0));
                Assert.True(Eventually(() => first.All(pid => !IsAlive(pid))));
                Assert.Equal(new[] { 2, 4, 6 }, Run(pool, new[] { 1, 2, 3 }, Method("Double")).Select(Decode<int>));
                Assert.Empty(pool.GetWorkerProcessIds().Intersect(first));
            });
        }

        [Fact]
        public void MaxTasksPerWorker_RecyclesWorkers_ResultsUnchanged()
        {
            var options = Options(2);
            options.MaxTasksPerWorker = 25;
            WithPool(options, pool =>
            {
                var results = Run(pool, Enumerable.Range(0, 200), Method("WhoAmI"));
                var served = results.Select(Decode<int[]>).ToList();
                Assert.True(served.Select(r => r[0]).Distinct().Count() >= 8, "200 items at 25 per worker need at least 8 workers");
                Assert.All(served, r => Assert.InRange(r[1], 1, 25));
                Assert.True(pool.GetStats().WorkersRecycled >= 6);
            });
        }

        [Fact]
        public void ParentKilled_WorkersExitWithinSeconds()
        {
            var parent = Process.Start(new ProcessStartInfo(Dotnet, $"exec \"{FakeWorkerDll}\" parent \"{WorkerDll}\" \"{Dotnet}\"")
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!;
            try
            {
                string? line = parent.StandardOutput.ReadLine();
                Assert.NotNull(line);
                var workers = line!.Split(',').Select(int.Parse).ToList();
                Assert.Equal(2, workers.Count);
                Assert.All(workers, pid => Assert.True(IsAlive(pid)));
                parent.Kill(); // SIGKILL: no chance to clean up, like a crash or a killed scheduled task
                parent.WaitForExit();
                // Each worker notices (stdin EOF, parent pid gone) and exits; init reaps them.
                Assert.True(Eventually(() => workers.All(pid => !IsAlive(pid)), 10), "workers outlived their parent");
            }
            finally
            {
                if (!parent.HasExited) parent.Kill(true);
                parent.Dispose();
            }
        }

        [Fact]
        public void Stats_CountStartedWorkersAndCompletedItems()
        {
            using var pool = new WorkerPool(Options(2));
            Run(pool, Enumerable.Range(0, 100), Method("Double"));
            var stats = pool.GetStats();
            Assert.Equal(2, stats.WorkersStarted);
            Assert.True(Eventually(() => pool.GetStats().ItemsCompleted == 100));
            Assert.Equal(PoolState.Running, stats.State);
        }
    }
}
