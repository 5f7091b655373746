using System;
using System.Collections.Generic;
using ProcessPool.Engine.Worker;

namespace ProcessPool.Engine.Methods
{
    /// <summary>Runs static .NET methods inside a worker: JSON in, JSON out, an optional initializer and finalizer per worker.</summary>
    public sealed class MethodRunner : IPayloadRunner
    {
        private MethodSetup? _setup;

        /// <inheritdoc />
        public void Initialize(byte[] setup)
        {
            if (setup.Length == 0) return;
            _setup = MethodSetup.Decode(setup);
            if (_setup.Initializer != null) Resolve(_setup.AssemblyPath, _setup.Initializer, true).InvokeWithArguments(_setup.InitializerArguments);
        }

        /// <inheritdoc />
        public IMapExecutor Define(byte[] payload)
        {
            var spec = MethodPayload.Decode(payload);
            return new Executor(Resolve(spec.AssemblyPath, spec.Method, spec.Spread));
        }

        /// <summary>Runs the finalizer, when the pool set one; called when the worker shuts down cleanly.</summary>
        public void Dispose()
        {
            var setup = _setup;
            _setup = null;
            if (setup?.Finalizer != null) Resolve(setup.AssemblyPath, setup.Finalizer, true).InvokeWithArguments(setup.FinalizerArguments);
        }

        private static MethodInvoker Resolve(string assemblyPath, string method, bool spread) =>
            new MethodInvoker(MethodResolver.Resolve(MethodResolver.LoadAssembly(assemblyPath), method), spread);

        private sealed class Executor : IMapExecutor
        {
            private readonly MethodInvoker _invoker;

            public Executor(MethodInvoker invoker) => _invoker = invoker;

            public void RunChunk(IReadOnlyList<ArraySegment<byte>> items, ChunkSink sink)
            {
                for (int i = 0; i < items.Count; i++)
                {
                    sink.BeginItem(i);
                    byte[]? result;
                    try
                    {
                        result = _invoker.Invoke(items[i]);
                    }
                    catch (BatchElementException failure)
                    {
                        // The batch fails with the element's own error type and stack, its message naming the element.
                        var error = Protocol.ErrorInfo.FromException(failure.InnerException!);
                        sink.FailItem(error.Type, failure.Message, error.StackTrace, null);
                        continue;
                    }
                    catch (Exception error)
                    {
                        sink.FailItem(error);
                        continue;
                    }
                    if (result != null) sink.Emit(RecordKind.Output, result);
                    sink.EndItem();
                }
            }

            public void Dispose() { }
        }
    }
}
