using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HappySad.Web.Data.Configurations;

internal sealed class PhotoEntityTypeConfiguration : IEntityTypeConfiguration<Photo>
{
    public void Configure(EntityTypeBuilder<Photo> builder)
    {
        builder.Property(p => p.ClassName).HasMaxLength(40);
        builder.Property(p => p.StoredName).HasMaxLength(80);
        builder.Property(p => p.OriginalName).HasMaxLength(255);
        builder.Property(p => p.Sha256).HasMaxLength(64);
        builder.Property(p => p.Format).HasMaxLength(10);
        builder.Property(p => p.Status).HasConversion<string>().HasMaxLength(10);
        // One copy of a file per data set, trash included: the hash is also the file name.
        builder.HasIndex(p => new { p.DataSetId, p.Sha256 }).IsUnique();
        // The browse query: one class of one data set, live or trashed, newest first.
        builder.HasIndex(p => new { p.DataSetId, p.ClassName, p.TrashedAt, p.Id });
    }
}
