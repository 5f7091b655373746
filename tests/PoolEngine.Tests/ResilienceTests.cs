using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using Xunit;
using static ProcessPool.Engine.Tests.TestHosts;

namespace ProcessPool.Engine.Tests
{
    /// <summary>A pool is not broken by anything outside it, and one broken by a passing cause recovers.</summary>
    public sealed class ResilienceTests
    {
        /// <summary>
        /// SIGKILLs from outside, at random, of ready workers, of all workers at once, and of workers while they start,
        /// about <paramref name="intervalMs"/> apart, during a 20,000-item map. The input is released in step with the
        /// kills and its end waits for the last of them, so every kill lands while the map runs, however fast or
        /// loaded the machine. The output must equal the serial result, the pool must serve the next map, and no
        /// process may be left.
        /// </summary>
        [Theory]
        [InlineData(1000)]
        [InlineData(300)]
        public void Map_WorkersKilledWhileStartingAndReady_OutputExact_PoolUsable(int intervalMs)
        {
            const int count = 20_000, minRounds = 8, minStartingKills = 4;
            WithPool(Options(2), pool =>
            {
                var restarts = new List<string>();
                pool.EventRaised += (_, e) =>
                {
                    if (e.Kind == PoolEventKind.WorkerStartFailed && e.Message.Contains("killed from outside")) lock (restarts) restarts.Add(e.Message);
                };
                Assert.True(pool.WaitForWorkers(TimeSpan.FromSeconds(30)));
                var random = new Random(intervalMs);
                int rounds = 0, startingKills = 0, readyKills = 0;
                var killerDone = new ManualResetEventSlim();
                var killer = new Thread(() =>
                {
                    var clock = Stopwatch.StartNew();
                    try
                    {
                        while ((rounds < minRounds || startingKills < minStartingKills) && clock.Elapsed < TimeSpan.FromSeconds(90))
                        {
                            Thread.Sleep((int)(intervalMs * (0.7 + 0.6 * random.NextDouble())));
                            switch (random.Next(3))
                            {
                                case 0: // one ready worker
                                    var ready = pool.GetReadyWorkerProcessIds();
                                    if (ready.Count > 0 && Kill(ready[random.Next(ready.Count)])) readyKills++;
                                    break;
                                case 1: // everything, starting or not, as a kill storm from outside would
                                    foreach (int pid in pool.GetWorkerProcessIds()) if (Kill(pid)) readyKills++;
                                    break;
                                default: // a worker caught while it starts, twice in a row if it can be
                                    for (int i = 0; i < 2; i++)
                                    {
                                        var starting = WaitForStartingWorker(pool, TimeSpan.FromSeconds(5));
                                        if (starting == 0)
                                        {
                                            // None starting: kill a ready one, and catch its replacement next time.
                                            var any = pool.GetReadyWorkerProcessIds();
                                            if (any.Count > 0 && Kill(any[0])) readyKills++;
                                            continue;
                                        }
                                        if (Kill(starting)) startingKills++;
                                    }
                                    break;
                            }
                            rounds++;
                        }
                    }
                    finally { killerDone.Set(); }
                }) { IsBackground = true };
                killer.Start();

                // Input in step with the kill rounds; its last item waits for the killer to finish.
                IEnumerable<int> Input()
                {
                    for (int i = 0; i < count; i++)
                    {
                        while (!killerDone.IsSet && (i == count - 1 || i >= (long)count * (rounds + 1) / (minRounds + 1))) Thread.Sleep(5);
                        yield return i;
                    }
                }
                // Outside kills that hit one item's lone re-runs again and again must not make it poison here:
                // the budget exceeds the kills this test can make.
                var results = Run(pool, Input(), Method("Double", o => { o.ChunkSize = 50; o.MaxKillsPerItem = 1000; }));
                killer.Join();

                Assert.True(startingKills >= minStartingKills, $"only {startingKills} workers were killed while starting");
                Assert.Equal(count, results.Count);
                Assert.All(results, r => Assert.True(r.Succeeded, r.Error?.Message));
                Assert.Equal(Enumerable.Range(0, count).Select(x => 2 * x), results.Select(Decode<int>));
                Assert.Equal(PoolState.Running, pool.State);
                lock (restarts) Assert.NotEmpty(restarts);
                Assert.Equal(new[] { 2, 4, 6 }, Run(pool, new[] { 1, 2, 3 }, Method("Double")).Select(Decode<int>));
            });
        }

        [Fact]
        public void WorkersExitingOnTheirOwnDuringStart_BreakThePool_WhichRecoversOnTheNextMap()
        {
            string marker = Path.Combine(Path.GetTempPath(), $"processpool-recover-{Guid.NewGuid():N}");
            var options = Options(2, new WorkerLaunch(Dotnet, new[] { "exec", FakeWorkerDll, "exit-unless", marker }));
            options.StartEagerly = false;
            try
            {
                WithPool(options, pool =>
                {
                    var map = pool.StartMap(Method("Double"), Encode(new[] { 1 }));
                    var error = Assert.Throws<BrokenPoolException>(() => map.GetResults().ToList());
                    Assert.Contains("exit code 7", error.Message);
                    Assert.Equal(PoolState.Broken, pool.State);

                    File.WriteAllText(marker, ""); // the cause passes
                    Assert.Equal(new[] { 2, 4 }, Run(pool, new[] { 1, 2 }, Method("Double")).Select(Decode<int>));
                    Assert.Equal(PoolState.Running, pool.State);
                });
            }
            finally { File.Delete(marker); }
        }

        private static int WaitForStartingWorker(WorkerPool pool, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout)
            {
                var starting = pool.GetStartingWorkerProcessIds();
                if (starting.Count > 0) return starting[0];
                Thread.Sleep(1);
            }
            return 0;
        }

        private static bool Kill(int pid)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill(); // SIGKILL
                return true;
            }
            catch (Exception) { return false; } // it was just replaced
        }
    }
}
