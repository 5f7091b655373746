namespace ProcessPool.Engine.Protocol
{
    /// <summary>Parent → remote worker, before the Setup or Define that names the file: the path the payload uses, the file's name, its SHA-256 and length (see <see cref="ShippedFile"/>).</summary>
    internal sealed class FileOfferMessage
    {
        public FileOfferMessage(string path, string name, byte[] hash, long length)
        {
            Path = path;
            Name = name;
            Hash = hash;
            Length = length;
        }

        public string Path { get; }
        public string Name { get; }
        public byte[] Hash { get; }
        public long Length { get; }

        public static FileOfferMessage For(ShippedFile file) => new FileOfferMessage(file.Path, file.Name, file.Hash, file.Length);

        public void WriteTo(ByteBuffer body)
        {
            body.WriteString(Path);
            body.WriteString(Name);
            body.WriteBlob(Hash);
            body.WriteInt64(Length);
        }

        public static FileOfferMessage ReadFrom(ref BodyReader body) =>
            new FileOfferMessage(body.ReadString() ?? "", body.ReadString() ?? "", body.ReadBlob() ?? System.Array.Empty<byte>(), body.ReadInt64());
    }

    /// <summary>Remote worker → parent: the offered file with this SHA-256 is not in the worker's cache; send it.</summary>
    internal sealed class FileNeededMessage
    {
        public FileNeededMessage(byte[] hash) => Hash = hash;

        public byte[] Hash { get; }

        public void WriteTo(ByteBuffer body) => body.WriteBlob(Hash);

        public static FileNeededMessage ReadFrom(ref BodyReader body) => new FileNeededMessage(body.ReadBlob() ?? System.Array.Empty<byte>());
    }

    /// <summary>Parent → remote worker: the bytes of a file it asked for, with their SHA-256 (checked before use).</summary>
    internal sealed class FileDataMessage
    {
        public FileDataMessage(byte[] hash, byte[] bytes)
        {
            Hash = hash;
            Bytes = bytes;
        }

        public byte[] Hash { get; }
        public byte[] Bytes { get; }

        public void WriteTo(ByteBuffer body)
        {
            body.WriteBlob(Hash);
            body.WriteBlob(Bytes);
        }

        public static FileDataMessage ReadFrom(ref BodyReader body) =>
            new FileDataMessage(body.ReadBlob() ?? System.Array.Empty<byte>(), body.ReadBlob() ?? System.Array.Empty<byte>());
    }
}
