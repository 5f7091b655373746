using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using Xunit;
using static ProcessPool.Engine.Tests.TestHosts;

namespace ProcessPool.Engine.Tests
{
    public sealed class FaultInjectionTests
    {
        /// <summary>
        /// Kills random ready workers throughout a 100,000-item map: the output must still equal the serial result,
        /// each item exactly once. The input is released in step with the kills and its last item waits for the last
        /// kill, so all of them land while the map runs on any machine. Outside kills are never the items' fault:
        /// the budget for outside kills of a lone re-run exceeds the kills made, so no verdict can follow from them.
        /// </summary>
        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void Map_RandomWorkersKilled_OutputEqualsSerial(bool ordered)
        {
            const int count = 100_000, wantedKills = 10;
            WithPool(Options(2), pool =>
            {
                Assert.True(pool.WaitForWorkers(TimeSpan.FromSeconds(30)));
                var random = new Random(7);
                int kills = 0;
                var killerDone = new ManualResetEventSlim();
                var killer = new Thread(() =>
                {
                    var clock = Stopwatch.StartNew();
                    try
                    {
                        while (kills < wantedKills && clock.Elapsed < TimeSpan.FromSeconds(90))
                        {
                            Thread.Sleep(random.Next(200, 400));
                            var pids = pool.GetReadyWorkerProcessIds();
                            if (pids.Count == 0) continue;
                            try { Process.GetProcessById(pids[random.Next(pids.Count)]).Kill(); kills++; }
                            catch (Exception) { /* it was just replaced */ }
                        }
                    }
                    finally { killerDone.Set(); }
                }) { IsBackground = true };
                killer.Start();

                IEnumerable<int> Input()
                {
                    for (int i = 0; i < count; i++)
                    {
                        while (!killerDone.IsSet && (i == count - 1 || i >= (long)count * (kills + 1) / (wantedKills + 1))) Thread.Sleep(5);
                        yield return i;
                    }
                }
                // Items sleep nothing: the kills land mid-chunk because each worker always has chunks queued.
                var results = Run(pool, Input(), Method("Double", o => { o.Ordered = ordered; o.ChunkSize = 100; o.MaxKillsPerItem = wantedKills + 1; }));
                killer.Join();

                Assert.Equal(wantedKills, kills);
                Assert.Equal(count, results.Count);
                Assert.All(results, r => Assert.True(r.Succeeded, r.Error?.Message));
                var bySequence = results.OrderBy(r => r.Sequence).ToList();
                Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i), bySequence.Select(r => r.Sequence));
                Assert.Equal(Enumerable.Range(0, count).Select(x => 2 * x), bySequence.Select(Decode<int>));
            });
        }

        /// <summary>
        /// An item whose lone re-runs are killed from outside (SIGKILL, as a user or the OOM killer would) is not
        /// poison for it: such a kill counts only at the MaxKillsPerItem-th (3rd) time. Before, the second death
        /// made the verdict "killed its worker every time it ran".
        /// </summary>
        [Fact]
        public void IsolatedRun_KilledFromOutsideTwice_IsNotPoison()
        {
            WithPool(Options(1), pool =>
            {
                var map = pool.StartMap(Method("SleepMs", o => o.ChunkSize = 1), Encode(new[] { 2000 }));
                Assert.True(Eventually(() => pool.GetStats().Busy == 1));
                var killed = pool.GetWorkerProcessIds().ToList();
                KillAny(killed); // first death, in a shared chunk: the item is re-run alone
                for (int i = 0; i < 2; i++)
                {
                    // A killed worker is listed until the pool has seen it die: wait for the re-run on a new one.
                    List<int> running = new List<int>();
                    Assert.True(Eventually(() => (running = pool.GetProcessIdsRunningIsolated().Except(killed).ToList()).Count == 1));
                    killed.AddRange(running);
                    KillAny(running);
                }
                var result = Assert.Single(map.GetResults().ToList());
                Assert.True(result.Succeeded, result.Error?.Message);
                Assert.Equal(2000, Decode<int>(result));
                Assert.Equal(4, result.Attempts);
            });
        }

        private static void KillAny(IReadOnlyList<int> pids)
        {
            foreach (int pid in pids)
                try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { }
        }
    }
}
