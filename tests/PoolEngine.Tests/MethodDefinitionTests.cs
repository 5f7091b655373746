using System;
using System.IO;
using System.Linq;
using ProcessPool.Engine.Methods;
using Xunit;
using static ProcessPool.Engine.Tests.TestHosts;

namespace ProcessPool.Engine.Tests
{
    /// <summary>Payloads that cannot run fail the whole map early, with a message naming what is wrong.</summary>
    public sealed class MethodDefinitionTests : IDisposable
    {
        private readonly WorkerPool _pool = new WorkerPool(Options(1));

        public void Dispose() => _pool.Dispose();

        [Theory]
        [InlineData("ProcessPool.TestMethods.Missing::Double", "TypeLoadException", "type 'ProcessPool.TestMethods.Missing' was not found")]
        [InlineData("ProcessPool.TestMethods.Payloads::Nope", "MissingMethodException", "no public method named 'Nope'")]
        [InlineData("ProcessPool.TestMethods.Instance::NotStatic", "ArgumentException", "instance method")]
        [InlineData("ProcessPool.TestMethods.Payloads::Overloaded", "AmbiguousMatchException", "ambiguous")]
        [InlineData("ProcessPool.TestMethods.Payloads::Generic", "ArgumentException", "generic method")]
        [InlineData("ProcessPool.TestMethods.Payloads::ByRef", "ArgumentException", "ref or out")]
        [InlineData("NoSeparator", "ArgumentException", "Namespace.Type::Method")]
        public void Map_BadMethod_FailsEarlyWithDefinitionError(string method, string type, string message)
        {
            var options = new MapOptions(MethodPayload.Kind, MethodPayload.For(MethodsDll, method).Encode());
            var map = _pool.StartMap(options, Encode(Enumerable.Range(0, 1000)));
            var error = Assert.Throws<MapDefinitionException>(() => map.GetResults().ToList());
            Assert.EndsWith(type, error.RemoteType);
            Assert.Contains(message, error.Message);
        }

        [Fact]
        public void Map_MissingAssembly_FailsEarlyNamingThePath()
        {
            string path = Path.Combine(Path.GetTempPath(), "no-such-assembly.dll");
            var options = new MapOptions(MethodPayload.Kind, MethodPayload.For(path, "A.B::C").Encode());
            var error = Assert.Throws<MapDefinitionException>(() => _pool.Map(Encode(new[] { 1 }), options).ToList());
            Assert.Contains(path, error.Message);
            Assert.Equal(typeof(FileNotFoundException).FullName, error.RemoteType);
        }

        [Fact]
        public void Initializer_RunsOncePerWorker_WithArguments()
        {
            var options = Options(2);
            options.RunnerSetup[MethodPayload.Kind] = new MethodSetup
            {
                AssemblyPath = MethodsDll,
                Initializer = "ProcessPool.TestMethods.Payloads::Init",
                InitializerArguments = "[\"ready\"]",
            }.Encode();
            using var pool = new WorkerPool(options);
            Assert.All(Run(pool, Enumerable.Range(0, 50), Method("Initialized")), r => Assert.Equal("ready", Decode<string>(r)));
        }

        [Fact]
        public void Finalizer_RunsWhenThePoolClosesCleanly()
        {
            string dir = Directory.CreateTempSubdirectory("processpool-test-").FullName;
            try
            {
                var options = Options(2);
                options.RunnerSetup[MethodPayload.Kind] = new MethodSetup
                {
                    AssemblyPath = MethodsDll,
                    Finalizer = "ProcessPool.TestMethods.Payloads::WriteMarker",
                    FinalizerArguments = System.Text.Json.JsonSerializer.Serialize(new[] { dir }),
                }.Encode();
                var pool = new WorkerPool(options);
                Assert.True(pool.WaitForWorkers(TimeSpan.FromSeconds(30)));
                var pids = pool.GetWorkerProcessIds();
                pool.Close(TimeSpan.FromSeconds(30));
                Assert.Equal(PoolState.Closed, pool.State);
                Assert.All(pids, pid => Assert.True(File.Exists(Path.Combine(dir, "finalized-" + pid))));
                AssertNoLeaks(pool);
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }
    }
}
