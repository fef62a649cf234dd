# HappySad: the web dashboard and command line in one image.
# Not built in our CI (no container engine there); kept correct by reading. See README.

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props HappySad.Web.sln ./
COPY HappySad.Training/HappySad.Training.csproj HappySad.Training/
COPY HappySad.Web/HappySad.Web.csproj HappySad.Web/
RUN dotnet restore HappySad.Web/HappySad.Web.csproj -r linux-x64
COPY . .
# linux-x64 only: the portable build would also carry libtorch for Windows and macOS.
RUN dotnet publish HappySad.Web/HappySad.Web.csproj -c Release -r linux-x64 --self-contained false --no-restore -o /app

# The .NET 10 images are Ubuntu 24.04, whose libstdc++ (GCC 14) already has GLIBCXX_3.4.32,
# so the run-time libstdc++ patch finds nothing to do and /app can stay read-only.
FROM mcr.microsoft.com/dotnet/aspnet:10.0
# The system's libjpeg-turbo with its SIMD kernels decodes JPEGs twice as fast as Skia's build, to the
# same pixels (README, "Predict API speed"); Ubuntu names the package libturbojpeg, Debian libturbojpeg0.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libturbojpeg \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
RUN mkdir -p /data && chown app:app /data
VOLUME /data
WORKDIR /data
USER app
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    StorageOptions__DataDirectory=/data \
    HAPPYSAD_PRETRAINED_DIR=/data/pretrained
# Plain HTTP on every interface of the container: publish it on loopback (-p 127.0.0.1:8080:8080)
# or behind a TLS proxy with -e AllowedHosts=<your host name> -e ASPNETCORE_FORWARDEDHEADERS_ENABLED=true
# (README, "Accounts and access"). The first start logs the one-time setup link.
EXPOSE 8080
ENTRYPOINT ["dotnet", "/app/HappySad.Web.dll"]
