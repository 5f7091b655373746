using System;
using System.Collections.Generic;

namespace ProcessPool.Engine.Worker
{
    /// <summary>
    /// Runs one kind of payload inside a worker process (static .NET methods, PowerShell script blocks).
    /// All calls arrive on the worker's main thread, one at a time.
    /// </summary>
    public interface IPayloadRunner : IDisposable
    {
        /// <summary>Applies the pool's per-worker setup for this kind (empty when the pool has none). Throwing fails the worker's start.</summary>
        void Initialize(byte[] setup);

        /// <summary>Prepares a map's payload. Throwing reports a definition error that fails the whole map early.</summary>
        IMapExecutor Define(byte[] payload);
    }

    /// <summary>A map's prepared payload inside one worker; disposed when the parent releases the map, so per-map state does not leak into the next.</summary>
    public interface IMapExecutor : IDisposable
    {
        /// <summary>Runs the items in order, reporting each through <paramref name="sink"/>: <see cref="ChunkSink.BeginItem"/>, any emits, then <see cref="ChunkSink.EndItem"/>.</summary>
        void RunChunk(IReadOnlyList<ArraySegment<byte>> items, ChunkSink sink);
    }
}
