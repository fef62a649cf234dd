using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace HappySad.Web.Data.Configurations;

internal sealed class DataSetEntityTypeConfiguration : IEntityTypeConfiguration<DataSet>
{
    public void Configure(EntityTypeBuilder<DataSet> builder)
    {
        builder.Property(d => d.Name).HasMaxLength(100);
        builder.HasIndex(d => d.Name).IsUnique();
        builder.HasMany(d => d.Photos).WithOne(p => p.DataSet).HasForeignKey(p => p.DataSetId).OnDelete(DeleteBehavior.Cascade);
    }
}
