using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using Xunit;
using static ProcessPool.Engine.Tests.TestHosts;

namespace ProcessPool.Engine.Tests
{
    /// <summary>Races between the caller's threads and the engine's: cancellation, wake-ups, kills.</summary>
    public sealed class ConcurrencyTests
    {
        /// <summary>
        /// A consumer waits for results while batches keep waking it, and its token is cancelled at a random moment,
        /// thousands of times. A cancellation callback that takes the map's lock, disposed by a waiter that holds it,
        /// deadlocks both threads; the waits must all end with cancellation within seconds.
        /// </summary>
        [Fact]
        public void WaitForResult_CancelledAtRandomMoments_NeverDeadlocks()
        {
            var pool = new WorkerPool(Options(1));
            bool finished = false;
            // Read before the race: on a deadlock the pool's own lock may be stuck behind the map's.
            Assert.True(pool.WaitForWorkers(TimeSpan.FromSeconds(30)));
            var workers = pool.GetAllStartedProcessIds();
            try
            {
                var map = pool.StartMap(Method("Double"));
                using var stop = new CancellationTokenSource();
                // Empty batches wake the consumer without giving it anything to take, as results of other items do.
                var waker = new Thread(() =>
                {
                    var none = new List<CompletedItem>();
                    while (!stop.IsCancellationRequested) map.ItemsSucceeded(none, 0, 0, DateTime.UtcNow);
                }) { IsBackground = true };
                waker.Start();

                int rounds = 0, cancelled = 0;
                CancellationToken token = default;
                using var go = new SemaphoreSlim(0);
                using var done = new SemaphoreSlim(0);
                var waiter = new Thread(() =>
                {
                    while (true)
                    {
                        go.Wait();
                        if (stop.IsCancellationRequested) return;
                        try { map.WaitForResult(Timeout.InfiniteTimeSpan, token); }
                        catch (OperationCanceledException) { cancelled++; }
                        done.Release();
                    }
                }) { IsBackground = true };
                waiter.Start();

                var random = new Random(8);
                var clock = Stopwatch.StartNew();
                var run = new Thread(() =>
                {
                    // Bounded in count and in time, so the test takes seconds on any machine.
                    while (rounds < 5000 && clock.Elapsed < TimeSpan.FromSeconds(8))
                    {
                        using var cts = new CancellationTokenSource();
                        token = cts.Token;
                        go.Release();
                        // Cancel anywhere from before the wait begins to well into it.
                        long until = Stopwatch.GetTimestamp() + random.Next(0, 300) * Stopwatch.Frequency / 1_000_000;
                        while (Stopwatch.GetTimestamp() < until) Thread.SpinWait(10);
                        cts.Cancel(); // a callback blocked on the map's lock hangs here
                        if (!done.Wait(TimeSpan.FromSeconds(10))) return;
                        rounds++;
                    }
                }) { IsBackground = true };
                run.Start();
                finished = run.Join(TimeSpan.FromSeconds(30));
                stop.Cancel();
                go.Release();
                waker.Join(TimeSpan.FromSeconds(10));
                Assert.True(finished, $"a cancelled wait deadlocked after {rounds} rounds");
                Assert.True(rounds >= 200, $"only {rounds} rounds ran");
                Assert.Equal(rounds, cancelled);
                map.Cancel();
            }
            finally
            {
                if (finished) pool.Dispose();
                else // the map's lock is held forever and disposing would hang on it: end the workers directly
                    foreach (int pid in workers)
                        try { Process.GetProcessById(pid).Kill(); } catch (ArgumentException) { }
            }
            AssertNoLeaks(pool);
        }
    }
}
