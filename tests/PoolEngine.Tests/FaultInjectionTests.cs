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
            WithPool(Options(2), pool =>
            {
                Assert.True(pool.WaitForWorkers(TimeSpan.FromSeconds(30)));
                var random = new Random(7);
                int kills = 0;
                using var stop = new CancellationTokenSource();
                var killer = new Thread(() =>
                {
                    while (!stop.IsCancellationRequested && kills < 10)
                    {
                        Thread.Sleep(random.Next(200, 400));
                        var pids = pool.GetReadyWorkerProcessIds();
                        if (pids.Count == 0) continue;
                        try { System.Diagnostics.Process.GetProcessById(pids[random.Next(pids.Count)]).Kill(); kills++; }
                        catch (Exception) { /* it was just replaced */ }
                    }
                });
                killer.Start();
                // Items sleep nothing: the kills land mid-chunk because each worker always has chunks queued.
                var results = Run(pool, Enumerable.Range(0, count), Method("Double", o => { o.Ordered = ordered; o.ChunkSize = 100; }));
                stop.Cancel();
                killer.Join();

                Assert.Equal(count, results.Count);
                Assert.All(results, r => Assert.True(r.Succeeded, r.Error?.Message));
                var bySequence = results.OrderBy(r => r.Sequence).ToList();
                Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i), bySequence.Select(r => r.Sequence));
                Assert.Equal(Enumerable.Range(0, count).Select(x => 2 * x), bySequence.Select(Decode<int>));
                Assert.True(kills > 0);
            });
        }
    }
}
