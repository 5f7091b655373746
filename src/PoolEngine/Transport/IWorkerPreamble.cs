using System.IO;

namespace ProcessPool.Engine
{
    /// <summary>
    /// An exchange on a worker's raw streams before the protocol starts, such as shipping the module's assemblies to a
    /// remote host. It runs on the worker's reader thread, before the worker says hello; a failure is a start failure.
    /// It must read no byte past its own part of the stream.
    /// </summary>
    public interface IWorkerPreamble
    {
        /// <summary>Runs the exchange; throws when the worker cannot be prepared.</summary>
        void Run(Stream toWorker, Stream fromWorker);
    }
}
