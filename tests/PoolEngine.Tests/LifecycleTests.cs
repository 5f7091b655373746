using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using ProcessPool.TestMethods;
using Xunit;
using static ProcessPool.Engine.Tests.TestHosts;

namespace ProcessPool.Engine.Tests
{
    public sealed class LifecycleTests
    {
        [Fact]
        public void NewPool_StartsAllWorkers_Warm()
        {
            using var pool = new WorkerPool(Options(3));
            Assert.True(pool.WaitForWorkers(TimeSpan.FromSeconds(30)));
            Assert.Equal(3, pool.GetWorkerProcessIds().Distinct().Count());
            Assert.Equal(3, pool.GetStats().Idle);
        }

        /// <summary>
        /// With no more cores than workers, the first worker starts alone and the others once it is ready, so starting
        /// runtimes do not share the cores and the first result does not wait for every start.
        /// </summary>
        [Fact]
        public void NewPool_NoMoreCoresThanWorkers_StartsOneWorkerFirst_TheRestOnceItIsReady()
        {
            int size = Math.Max(2, Environment.ProcessorCount);
            var options = Options(size);
            options.StartEagerly = false; // subscribe before the first start
            WithPool(options, pool =>
            {
                var events = new List<PoolEventKind>();
                pool.EventRaised += (_, e) => { lock (events) events.Add(e.Kind); };
                Assert.Equal(new[] { 2L }, Run(pool, new[] { 1L }, Method("Double")).Select(Decode<long>));
                Assert.True(pool.WaitForWorkers(TimeSpan.FromSeconds(60)));
                Assert.True(Eventually(() => { lock (events) return events.Count(k => k == PoolEventKind.WorkerStarting) == size; }));
                lock (events)
                {
                    var launches = events.Select((kind, at) => (kind, at)).Where(e => e.kind == PoolEventKind.WorkerStarting).Select(e => e.at).ToList();
                    int firstReady = events.IndexOf(PoolEventKind.WorkerReady);
                    Assert.True(launches[0] < firstReady && firstReady < launches[1], string.Join(", ", events));
                }
            });
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
                var idled = new List<string>();
                pool.EventRaised += (_, e) => { if (e.Kind == PoolEventKind.WorkerRecycled) lock (idled) idled.Add(e.Message); };
                // Not "wait until both are ready": on a loaded machine one may be ready and retired before the other
                // is ready. Each worker is started once, becomes ready, idles and is retired; none is restarted
                // without work.
                Assert.True(Eventually(() => pool.GetStats() is var s && s.WorkersRecycled == 2 && s.Starting + s.Idle + s.Busy == 0));
                var first = pool.GetAllStartedProcessIds();
                Assert.Equal(2, first.Count);
                Assert.Equal(2L, pool.GetStats().WorkersStarted);
                lock (idled) Assert.All(idled, m => Assert.Contains("idle for", m));
                Assert.True(Eventually(() => first.All(pid => !IsAlive(pid))));
                Assert.Equal(new[] { 2, 4, 6 }, Run(pool, new[] { 1, 2, 3 }, Method("Double")).Select(Decode<int>));
                Assert.Empty(pool.GetWorkerProcessIds().Intersect(first));
            });
        }

        [Fact]
        public void IdleTimeout_LongerThanTheHeartbeat_StillEndsIdleWorkers()
        {
            // An idle worker's heartbeats used to count as activity, so an idle timeout longer than the heartbeat
            // interval (the default pool's 2 minutes against 5 s) never ended anything.
            var options = Options(1);
            options.HeartbeatInterval = TimeSpan.FromMilliseconds(100);
            options.IdleTimeout = TimeSpan.FromSeconds(1);
            WithPool(options, pool =>
            {
                Assert.True(Eventually(() => pool.GetStats().WorkersRecycled == 1, 20));
                Assert.True(Eventually(() => pool.GetWorkerProcessIds().Count == 0));
            });
        }

        /// <summary>
        /// An idle pool costs nothing: the parent's timer is disarmed and each worker's pulse thread sleeps. Before,
        /// the timer ran every 20 ms and each pulse thread woke every 5 ms (400 wake-ups in 2 s) for ever.
        /// </summary>
        [Fact]
        public void IdlePool_TimerDisarmed_WorkersDoNotWake()
        {
            if (!OperatingSystem.IsLinux()) return; // context switches are read from /proc
            WithPool(Options(2), pool =>
            {
                Assert.True(pool.WaitForWorkers(TimeSpan.FromSeconds(30)));
                Assert.Equal(2000, Run(pool, Enumerable.Range(0, 2000), Method("Double")).Count);
                Assert.True(Eventually(() => !pool.IsTimerArmed, 10), "the timer stays armed in an idle pool");
                var pids = pool.GetWorkerProcessIds();
                Thread.Sleep(1000); // the runtime's own start-up work (tiered compilation) settles
                var before = pids.Select(ContextSwitches).ToList();
                Thread.Sleep(2000);
                var woke = pids.Select((pid, i) => ContextSwitches(pid) - before[i]).ToList();
                // What is left: the parent watch polls twice a second.
                Assert.All(woke, n => Assert.True(n < 60, $"an idle worker woke {n} times in 2 s"));
                Assert.False(pool.IsTimerArmed);
            });
        }

        /// <summary>Voluntary and involuntary context switches of every thread of a process: how often it woke.</summary>
        private static long ContextSwitches(int pid)
        {
            long total = 0;
            foreach (string task in Directory.GetDirectories($"/proc/{pid}/task"))
                foreach (string line in File.ReadAllLines(Path.Combine(task, "status")))
                    if (line.StartsWith("voluntary_ctxt_switches", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches", StringComparison.Ordinal))
                        total += long.Parse(line.Substring(line.IndexOf(':') + 1).Trim());
            return total;
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
        public void GroupSizedByHost_GrowsToTheProcessorCountItsFirstWorkerReports()
        {
            var group = WorkerGroup.SizedByHost(TestHosts.WorkerLaunch());
            TestHosts.WithPool(new PoolOptions(new[] { group }) { Name = "sized" }, pool =>
            {
                Assert.True(SpinWait.SpinUntil(() => pool.GetHostStats()[0].ProcessorCount > 0, TimeSpan.FromSeconds(60)));
                var host = pool.GetHostStats()[0];
                Assert.Equal(Math.Min(host.ProcessorCount, WorkerGroup.MaxHostSize), host.Size);
                Assert.Equal(host.Size, pool.Size);
                Assert.True(pool.WaitForWorkers(TimeSpan.FromSeconds(60)));
                Assert.Equal(host.Size, pool.GetStats().Idle);
                var results = TestHosts.Run(pool, Enumerable.Range(0, 50), TestHosts.Method("Double"));
                Assert.Equal(Enumerable.Range(0, 50).Select(i => 2 * i), results.Select(TestHosts.Decode<int>));
            });
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
