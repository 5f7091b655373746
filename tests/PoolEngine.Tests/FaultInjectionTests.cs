using System;
using System.Linq;
using System.Threading;
using Xunit;
using static ProcessPool.Engine.Tests.TestHosts;

namespace ProcessPool.Engine.Tests
{
    public sealed class FaultInjectionTests
    {
        /// <summary>Kills random workers throughout a 100,000-item map: the output must still equal the serial result, each item exactly once.</summary>
        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public void Map_RandomWorkersKilled_OutputEqualsSerial(bool ordered)
        {
            const int count = 100_000;
            var pool = new WorkerPool(Options(2));
            try
            {
                Assert.True(pool.WaitForWorkers(TimeSpan.FromSeconds(30)));
                var random = new Random(7);
                int kills = 0;
                using var stop = new CancellationTokenSource();
                var killer = new Thread(() =>
                {
                    while (!stop.IsCancellationRequested && kills < 20)
                    {
                        Thread.Sleep(random.Next(20, 80));
                        var pids = pool.GetReadyWorkerProcessIds();
                        if (pids.Count == 0) continue;
                        try { System.Diagnostics.Process.GetProcessById(pids[random.Next(pids.Count)]).Kill(); kills++; }
                        catch (Exception) { /* it was just replaced */ }
                    }
                });
                killer.Start();
                // Kills come every 20-80 ms while a fresh worker's first (JIT-cold) item takes ~50 ms, so a kill can land
                // twice on the same isolated re-run by chance; allowing 4 crashes per item keeps this adversarial test
                // about loss and duplication. Poison isolation itself is proven by CrashTableTests.
                var results = Run(pool, Enumerable.Range(0, count), Method("Double", o => { o.Ordered = ordered; o.ChunkSize = 500; o.MaxCrashesPerItem = 4; }));
                stop.Cancel();
                killer.Join();

                Assert.Equal(count, results.Count);
                Assert.All(results, r => Assert.True(r.Succeeded, r.Error?.Message));
                var bySequence = results.OrderBy(r => r.Sequence).ToList();
                Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i), bySequence.Select(r => r.Sequence));
                Assert.Equal(Enumerable.Range(0, count).Select(x => 2 * x), bySequence.Select(Decode<int>));
                Assert.True(kills > 0);
            }
            finally
            {
                pool.Dispose();
                AssertNoLeaks(pool);
            }
        }
    }
}
