using System;
using System.Linq;
using ProcessPool.Engine.Methods;
using ProcessPool.Engine.Protocol;
using Xunit;
using static ProcessPool.Engine.Tests.TestHosts;

namespace ProcessPool.Engine.Tests
{
    /// <summary>
    /// Messages to a worker larger than it accepts (256 MiB) are refused in the parent, before anything is sent: a
    /// worker that received one would reject the frame and exit, and every item it held would be blamed. These use the
    /// real limit, so each allocates one buffer of that size.
    /// </summary>
    public sealed class FrameLimitTests
    {
        [Fact]
        public void Submit_ItemOverTheFrameLimit_IsRefused_AndTheMapAndItsWorkersGoOn()
        {
            WithPool(Options(1), pool =>
            {
                Assert.True(pool.WaitForWorkers(TimeSpan.FromSeconds(30)));
                using var map = pool.StartMap(Method("Double"));
                var huge = new byte[ProtocolConstants.DefaultMaxFrameBytes];
                Assert.Throws<ArgumentException>(() => map.Submit(huge));
                huge = null;
                map.Submit(MethodJson.Encode(21));
                map.CompleteInput();
                Assert.Equal(42, Decode<int>(map.GetResults().Single()));
                Assert.Equal(0, pool.GetStats().WorkersLost);
                Assert.Equal(1, pool.GetStats().WorkersStarted);
            });
        }

        [Fact]
        public void MaxItemBytes_IsTheFrameLimitLessTheChunkHeader_AndFollowsALowerPoolLimit()
        {
            WithPool(Options(1), pool =>
            {
                Assert.Equal(ProtocolConstants.DefaultMaxFrameBytes - 21, pool.MaxItemBytes);
                var lowered = Options(1);
                lowered.MaxFrameBytes = 4096;
                WithPool(lowered, small =>
                {
                    Assert.Equal(4096 - 21, small.MaxItemBytes);
                    using var map = small.StartMap(Method("Echo"));
                    Assert.Throws<ArgumentException>(() => map.Submit(new byte[small.MaxItemBytes + 1]));
                });
            });
        }

        [Fact]
        public void StartMap_DefinitionOverTheFrameLimit_ThrowsMapDefinitionException_AndSendsNothing()
        {
            WithPool(Options(1), pool =>
            {
                Assert.True(pool.WaitForWorkers(TimeSpan.FromSeconds(30)));
                var options = new MapOptions(MethodPayload.Kind, new byte[ProtocolConstants.DefaultMaxFrameBytes]);
                Assert.Throws<MapDefinitionException>(() => pool.StartMap(options));
                Assert.Equal(0, pool.GetStats().ActiveMaps);
                Assert.Equal(new[] { 2, 4 }, Run(pool, new[] { 1, 2 }, Method("Double")).Select(Decode<int>));
                Assert.Equal(0, pool.GetStats().WorkersLost);
            });
        }
    }
}
