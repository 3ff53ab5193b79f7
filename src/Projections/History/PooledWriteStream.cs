using System.Buffers;

namespace Streaming.Projections.History;

/// <summary>
/// A write-only stream into an array rented from the shared pool, given back when disposed. A history block's body is
/// well over 85,000 bytes (about 135 KB for 2,000 signals): a <see cref="MemoryStream"/> grown by doubling to hold it, and
/// the copy it returned, were arrays on the large-object heap, whose budget set off blocking full collections under load.
/// </summary>
sealed class PooledWriteStream(int capacity = 4096) : Stream
{
    byte[] _buffer = ArrayPool<byte>.Shared.Rent(capacity);
    int _length;

    /// <summary>What was written so far; valid until the stream is disposed or written to again.</summary>
    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _length);

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _length;

    public override long Position
    {
        get => _length;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Reserve(buffer.Length);
        buffer.CopyTo(_buffer.AsSpan(_length));
        _length += buffer.Length;
    }

    public override void WriteByte(byte value)
    {
        Reserve(1);
        _buffer[_length++] = value;
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
            _length = 0;
        }
        base.Dispose(disposing);
    }

    void Reserve(int more)
    {
        ObjectDisposedException.ThrowIf(_buffer.Length == 0, this);
        if (_length + more <= _buffer.Length)
        {
            return;
        }
        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + more));
        _buffer.AsSpan(0, _length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }
}
