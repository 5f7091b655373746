using System;
using System.Linq;
using System.Threading;
using Xunit;
using static ProcessPool.Engine.Tests.TestHosts;

namespace ProcessPool.Engine.Tests
{
    /// <summary>
    /// An exception on a thread the engine owns must not reach the runtime (which would end the host process, the
    /// user's PowerShell session): it breaks the pool with a BrokenPoolException that names it. A test host that
    /// dies here fails the whole run, which is what these tests did before the engine caught such faults.
    /// </summary>
    public sealed class EngineFaultTests
    {
        [Fact]
        public void SubscriberThrowingOnWorkerOutput_BreaksThePoolWithTheCause_HostLives()
        {
            WithPool(Options(1), pool =>
            {
                pool.EventRaised += (_, e) =>
                {
                    if (e.Kind == PoolEventKind.WorkerOutput) throw new InvalidOperationException("subscriber refused the line");
                };
                // The input stays open until the pool broke: console output travels apart from results, so a map
                // whose input were complete could finish before the first line reached the subscriber.
                var map = pool.StartMap(Method("Noisy", o => o.ChunkSize = 1));
                map.Submit(Encode(new[] { 1 }).Single());
                // The pool breaks first; its running maps are stopped with the fault right after, on another thread.
                Assert.True(SpinWait.SpinUntil(() => map.Fault != null, TimeSpan.FromSeconds(60)), "the map did not fail with the pool");
                Assert.Equal(PoolState.Broken, pool.State);
                map.CompleteInput();
                var error = Assert.Throws<BrokenPoolException>(() => map.GetResults().ToList());
                Assert.Contains("subscriber refused the line", error.Message);
                Assert.IsType<InvalidOperationException>(error.InnerException);
                Assert.Equal(PoolState.Broken, pool.State);
                Assert.Throws<BrokenPoolException>(() => pool.StartMap(Method("Double")));
            });
        }

        [Fact]
        public void TimerThreadFault_BreaksThePoolWithTheCause_HostLives()
        {
            WithPool(Options(1), pool =>
            {
                pool.TickHook = () => throw new InvalidOperationException("injected timer fault");
                var map = pool.StartMap(Method("SleepMs", o => o.ChunkSize = 1), Encode(Enumerable.Repeat(200, 20)));
                var error = Assert.Throws<BrokenPoolException>(() => map.GetResults().ToList());
                Assert.Contains("the pool's timer", error.Message);
                Assert.Contains("injected timer fault", error.Message);
            });
        }

        [Fact]
        public void ChunkCallbackThrowing_StopsThatMap_PoolServesTheNext()
        {
            WithPool(Options(1), pool =>
            {
                var map = pool.StartMap(Method("Double", o => { o.ChunkSize = 1; o.ChunkCompleted = _ => throw new InvalidOperationException("log disk full"); }),
                    Encode(Enumerable.Range(0, 10)));
                var error = Assert.Throws<PoolException>(() => map.GetResults().ToList());
                Assert.Contains("log disk full", error.Message);
                Assert.Equal(0, pool.GetStats().WorkersLost);
                Assert.Equal(new[] { 2, 4 }, Run(pool, new[] { 1, 2 }, Method("Double")).Select(Decode<int>));
            });
        }
    }
}
