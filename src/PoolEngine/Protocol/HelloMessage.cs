using System;
using System.Collections.Generic;

namespace ProcessPool.Engine.Protocol
{
    /// <summary>
    /// The worker's first frame: protocol version, process id, the payload kinds it can run, a description of its
    /// runtime, then its machine's processor count (a trailing field: a body without it reads as 0, unknown), which
    /// sizes a remote host's group of workers when the user gave no size.
    /// </summary>
    internal sealed class HelloMessage
    {
        public HelloMessage(ushort version, int processId, IReadOnlyList<string> capabilities, string runtime, int processorCount = 0)
        {
            ProcessorCount = processorCount;
            Version = version;
            ProcessId = processId;
            Capabilities = capabilities;
            Runtime = runtime;
        }

        public ushort Version { get; }
        public int ProcessId { get; }
        public IReadOnlyList<string> Capabilities { get; }
        public string Runtime { get; }

        /// <summary>The worker's <see cref="Environment.ProcessorCount"/>, or 0 when its hello did not say.</summary>
        public int ProcessorCount { get; }

        public void WriteTo(ByteBuffer body)
        {
            foreach (byte b in ProtocolConstants.HelloMagic) body.WriteByte(b);
            body.WriteInt32(Version);
            body.WriteInt32(ProcessId);
            body.WriteInt32(Capabilities.Count);
            foreach (string capability in Capabilities) body.WriteString(capability);
            body.WriteString(Runtime);
            body.WriteInt32(ProcessorCount);
        }

        public static HelloMessage ReadFrom(ref BodyReader body)
        {
            foreach (byte expected in ProtocolConstants.HelloMagic)
                if (body.ReadByte() != expected)
                    throw new ProtocolException("Handshake failed: the worker's first frame is not a ProcessPool hello.");
            int version = body.ReadInt32();
            if (version != ProtocolConstants.Version)
                throw new ProtocolException($"Handshake failed: the worker speaks protocol version {version}, this pool speaks {ProtocolConstants.Version}. Use the same ProcessPool version on both sides.");
            int pid = body.ReadInt32();
            int count = body.ReadCount(4);
            var capabilities = new string[count];
            for (int i = 0; i < count; i++) capabilities[i] = body.ReadString() ?? "";
            string runtime = body.ReadString() ?? "";
            int processors = body.Remaining >= 4 ? body.ReadInt32() : 0;
            return new HelloMessage((ushort)version, pid, capabilities, runtime, processors);
        }
    }
}
