using System;
using System.Collections.Generic;

namespace ProcessPool.Engine.Protocol
{
    /// <summary>The worker's first frame: protocol version, process id, the payload kinds it can run and a description of its runtime.</summary>
    internal sealed class HelloMessage
    {
        public HelloMessage(ushort version, int processId, IReadOnlyList<string> capabilities, string runtime)
        {
            Version = version;
            ProcessId = processId;
            Capabilities = capabilities;
            Runtime = runtime;
        }

        public ushort Version { get; }
        public int ProcessId { get; }
        public IReadOnlyList<string> Capabilities { get; }
        public string Runtime { get; }

        public void WriteTo(ByteBuffer body)
        {
            foreach (byte b in ProtocolConstants.HelloMagic) body.WriteByte(b);
            body.WriteInt32(Version);
            body.WriteInt32(ProcessId);
            body.WriteInt32(Capabilities.Count);
            foreach (string capability in Capabilities) body.WriteString(capability);
            body.WriteString(Runtime);
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
            return new HelloMessage((ushort)version, pid, capabilities, runtime);
        }
    }
}
